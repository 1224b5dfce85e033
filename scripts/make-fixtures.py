#!/usr/bin/env python3
"""Regenerates the golden fixtures in test/fixtures: `python3 scripts/make-fixtures.py`.

Writes inputs/*.npy, expected/*.npy and manifest.json from a fixed seed, with NumPy only, so the
expected values are NumPy's own answers rather than a port of the service's kernels. Every .npy
under inputs/ and expected/ is replaced; the rest of test/fixtures (README.md, workers/) is left as
it is.
"""

import json
import warnings
from pathlib import Path

import numpy as np

SEED = 1
FIXTURES = Path(__file__).resolve().parent.parent / "test" / "fixtures"

# (op, params, file suffix), run on every input. The vector ops get a vector as long as a row.
CASES = [
    ("sum", {}, ""),
    ("mean", {}, ""),
    ("min", {}, ""),
    ("max", {}, ""),
    ("argmin", {}, ""),
    ("argmax", {}, ""),
    ("var", {}, ""),
    ("var", {"ddof": 1}, "_ddof1"),
    ("std", {}, ""),
    ("std", {"ddof": 1}, "_ddof1"),
    ("norm", {}, ""),
    ("norm", {"ord": 1}, "_ord1"),
    ("norm", {"ord": "inf"}, "_ordinf"),
    ("count_nonzero", {}, ""),
    ("median", {}, ""),
    ("quantile", {"q": 0.25}, "_q0.25"),
    ("dot", {}, ""),
    ("cosine", {}, ""),
    ("euclidean", {}, ""),
    ("strided_mean", {}, ""),
]
VECTOR_OPS = {"dot", "cosine", "euclidean"}

# (op, params, top, file suffix): the per-row results of op ranked, as the `top` job option does.
TOP_CASES = [("sum", {}, {"k": 3, "largest": True}, "_top3")]

# The service answers 400 for these on rows of length 0, as NumPy 1.x did for all of them. NumPy 2
# gives 0 for the inf-norm of an empty row (max with initial=0), so the set is fixed here rather
# than found by asking NumPy which ones raise.
REFUSED_ON_EMPTY_ROWS = {
    ("min", ""),
    ("max", ""),
    ("argmin", ""),
    ("argmax", ""),
    ("quantile", "_q0.25"),
    ("norm", "_ordinf"),
}

INT64_RESULTS = {"argmin", "argmax", "count_nonzero"}
NORM_ORD = {1: 1, 2: 2, "inf": np.inf}


def with_max_first(a):
    """The dtype's largest value at the first element: beyond 2**53 for int64/uint64, so the
    conversion to float64 is checked where it rounds."""
    a.flat[0] = np.iinfo(a.dtype).max
    return a


def small_ints(rng, dtype, shape):
    """Values in [-1000, 1000] (unsigned: [0, 1000]), or the whole range of a narrower dtype."""
    info = np.iinfo(dtype)
    low, high = max(info.min, -1000), min(info.max, 1000)
    return with_max_first(rng.integers(low, high, shape, endpoint=True).astype(dtype))


def first_inputs(rng):
    """Small inputs, one for each kind of dataset the service must read."""
    inputs = {}
    for dtype in ("float16", "float32", "float64"):
        inputs[f"{dtype}_c"] = rng.normal(0, 10, (6, 5)).astype(dtype)
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        inputs[f"{dtype}_c"] = small_ints(rng, dtype, (6, 5))
    flags = rng.random((6, 5)) < 0.5
    # An all-False row: count_nonzero 0, and a cosine of 0/0.
    flags[4] = False
    inputs["bool_c"] = flags
    inputs["float64_be"] = rng.normal(0, 10, (4, 3)).astype(">f8")
    inputs["int32_be"] = small_ints(rng, np.int32, (4, 3)).astype(">i4")
    inputs["float32_fortran"] = np.asfortranarray(rng.normal(0, 10, (5, 4)).astype(np.float32))
    inputs["float64_3d"] = rng.normal(0, 10, (3, 2, 4))
    inputs["int32_1d"] = small_ints(rng, np.int32, (7,))
    nonfinite = rng.normal(0, 10, (4, 4))
    nonfinite[1, 2] = np.nan
    nonfinite[2, 0] = np.inf
    nonfinite[3, 3] = -np.inf
    inputs["float64_nonfinite"] = nonfinite
    inputs["float16_wide"] = rng.normal(0, 10, (10, 1000)).astype(np.float16)
    inputs["float64_emptyrows"] = np.empty((3, 0))
    return inputs


def spread(rng, shape, decades):
    """Normal values scaled across 10**-decades..10**decades, so sums mix very different sizes."""
    return rng.normal(size=shape) * 10.0 ** rng.uniform(-decades, decades, shape)


def float64_wide(rng):
    a = spread(rng, (7, 300), 3)
    a[2, rng.choice(300, 3, replace=False)] = np.nan
    # Two +inf in one row: argmax ties to the first of them.
    a[3, np.sort(rng.choice(300, 2, replace=False))] = np.inf
    a[6, rng.integers(300)] = -np.inf
    # A row of values <= 0 whose maximum is zero, reached first by -0.0 and then by 0.0: count_nonzero
    # skips both, and max/argmax must treat them as equal.
    a[4] = -np.abs(a[4])
    zeros = np.sort(rng.choice(300, 8, replace=False))
    a[4, zeros] = -0.0
    a[4, zeros[-1]] = 0.0
    return a


def float32_wide(rng):
    a = spread(rng, (6, 257), 2).astype(np.float32)
    # 257 values leave one past the last full SIMD block: put the extremes and a NaN there.
    a[1, 256] = np.abs(a[1]).max() * 2
    a[2, 256] = -np.abs(a[2]).max() * 2
    a[3, 256] = np.nan
    a[5, rng.choice(256, 5, replace=False)] = -0.0
    return a


def int8_wide(rng):
    a = rng.integers(-128, 127, (5, 1000), endpoint=True).astype(np.int8)
    a[0, rng.integers(1000)] = -128
    a[0, 999] = 127
    # Mostly zeros, for count_nonzero; and a constant row, where every index ties.
    a[3, rng.random(1000) < 0.9] = 0
    a[4] = -128
    return a


def wide_inputs(rng):
    """Rows of 128 values or more, where the service runs its SIMD kernels."""
    return {"float64_wide": float64_wide(rng), "float32_wide": float32_wide(rng), "int8_wide": int8_wide(rng)}


def with_vectors(rng, inputs):
    """Each input with a vector as long as its rows, for dot, cosine and euclidean."""
    return {
        name: (data, np.round(rng.normal(size=int(np.prod(data.shape[1:]))), 6).tolist())
        for name, data in inputs.items()
    }


def per_row(op, params, data):
    """NumPy's answer for each row of `data`, the row flattened in C order as float64."""
    x = data.reshape(len(data), -1).astype(np.float64)
    match op:
        case "sum":
            return x.sum(axis=1)
        case "mean":
            return x.mean(axis=1)
        case "min":
            return x.min(axis=1)
        case "max":
            return x.max(axis=1)
        case "argmin":
            return x.argmin(axis=1)
        case "argmax":
            return x.argmax(axis=1)
        case "var":
            return x.var(axis=1, ddof=params.get("ddof", 0))
        case "std":
            return x.std(axis=1, ddof=params.get("ddof", 0))
        case "norm":
            return np.linalg.norm(x, NORM_ORD[params.get("ord", 2)], axis=1)
        case "count_nonzero":
            return np.count_nonzero(x, axis=1)
        case "median":
            return np.median(x, axis=1)
        case "quantile":
            return np.quantile(x, params["q"], axis=1, method="linear")
        case "dot":
            return x @ np.array(params["vector"])
        case "cosine":
            v = np.array(params["vector"])
            return (x @ v) / (np.linalg.norm(x, axis=1) * np.linalg.norm(v))
        case "euclidean":
            return np.linalg.norm(x - np.array(params["vector"]), axis=1)
        case "strided_mean":
            flat = data.ravel().astype(np.float64)
            return np.array([flat[:: i + 1].mean() for i in range(len(data))])
    raise ValueError(f"no such op: {op}")


def ranked(values, k, largest):
    """Positions of the k best values: a stable sort keeps ties in row order, and NumPy sorts NaN
    last whichever way, since negating NaN leaves NaN."""
    return np.argsort(-values if largest else values, kind="stable")[:k]


def save(relative, array):
    np.save(FIXTURES / relative, array)
    return relative


def main():
    rng = np.random.default_rng(SEED)
    # The wide inputs are drawn after the first ones and their vectors, so adding them left every
    # earlier fixture exactly as it was.
    inputs = with_vectors(rng, first_inputs(rng))
    inputs |= with_vectors(rng, wide_inputs(rng))
    for folder in ("inputs", "expected"):
        (FIXTURES / folder).mkdir(exist_ok=True)
        for old in (FIXTURES / folder).glob("*.npy"):
            old.unlink()

    cases = []
    for name, (data, vector) in inputs.items():
        input_file = save(f"inputs/{name}.npy", data)
        empty = int(np.prod(data.shape[1:])) == 0

        for op, params, suffix in CASES:
            if empty and (op, suffix) in REFUSED_ON_EMPTY_ROWS:
                continue
            params = {**params, "vector": vector} if op in VECTOR_OPS else dict(params)
            result = per_row(op, params, data).astype("<i8" if op in INT64_RESULTS else "<f8")
            expected = save(f"expected/{name}.{op}{suffix}.npy", result)
            cases.append({"input": input_file, "op": op, "params": params, "expected": expected})

        for op, params, top, suffix in TOP_CASES:
            values = per_row(op, params, data).astype("<f8")
            order = ranked(values, top["k"], top["largest"])
            stem = f"expected/{name}.{op}{suffix}"
            files = {
                "indices": save(f"{stem}.indices.npy", order.astype("<i8")),
                "values": save(f"{stem}.values.npy", values[order]),
            }
            case = {"input": input_file, "op": op, "params": dict(params), "top": top, "expected": files}
            cases.append(case)

    manifest = {"numpy": np.__version__, "seed": SEED, "cases": cases}
    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(inputs)} inputs, {len(cases)} cases in {FIXTURES}")


if __name__ == "__main__":
    # Empty rows and non-finite values make NumPy warn (mean of nothing, inf - inf); the NaN or inf
    # it returns is the expected value.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        main()
