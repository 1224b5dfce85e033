#!/usr/bin/env python3
"""Writes test/fixtures/expr/: small datasets of every kind of dtype (with NaN, inf, -0.0 and huge
values), and NumPy's answer for every row of every dataset under each expression in EXPRESSIONS.

Each expression is evaluated as NumPy evaluates the same Python text, with x = data[i].ravel()
.astype(np.float64), data = dataset = data.ravel().astype(np.float64), v the vector and the args as
float64 scalars. Numbers in the text, i, n and rows are float64 scalars (so 1/0 is inf, not a
Python error), and an index or slice bound is turned into an int when it is integral.

Run: python3 scripts/expr-goldens.py   (seeded; the manifest records NumPy's version)
"""
import ast
import json
import math
import os
import warnings

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'expr')
RNG = np.random.default_rng(20261125)
ROW_LENGTH = 12
VECTOR = [round(float(t), 6) for t in RNG.normal(0, 1, ROW_LENGTH)]
ARGS = {'alpha': 0.5, 'k': 3.0}

EXPRESSIONS = [
    # the recipe, and the benchmark shapes
    'dataset.ravel()[::i+1].mean()',
    'sum(where(x > 0, x*x, 0))',
    'sqrt(mean((x - mean(x))**2))',
    'max(abs(diff(x)))',
    'count_nonzero((x > 1) & (x < 2))',
    # reductions
    'sum(x)', 'x.sum()', 'mean(x)', 'x.mean()', 'prod(x[:4])', 'x[:5].prod()', 'min(x)', 'max(x)', 'x.min()',
    'x.max()', 'argmin(x)', 'argmax(x)', 'x.argmax()', 'std(x)', 'var(x)', 'std(x, ddof=1)', 'x.var(ddof=1)',
    'var(x, ddof=12)', 'var(x, ddof=13)', 'count_nonzero(x)', 'any(x > 100)', 'all(x > -100)', 'x.any()',
    'median(x)', 'median(x[::2])', 'quantile(x, 0.25)', 'quantile(x, q=0.9)', 'quantile(x[1:], alpha)',
    'norm(x)', 'norm(x, 1)', 'norm(x, ord=2)', 'norm(x, ord=inf)', 'dot(x, v)', 'x.dot(v)', 'len(x)',
    'len(data)', 'sum(data) / rows', 'mean(dataset[i*n:(i+1)*n])', 'sum(x > 0)', 'mean(x > 0)',
    # empty slices and reductions of them
    'sum(x[5:2])', 'mean(x[5:2])', 'prod(x[5:2])', 'std(x[5:2])', 'norm(x[5:2])', 'norm(x[5:2], inf)',
    'median(x[5:2])', 'count_nonzero(x[5:2])', 'any(x[5:2])', 'all(x[5:2])', 'len(x[5:2])', 'min(x[i:i])',
    'argmax(x[i:i])', 'quantile(x[i:i], 0.5)', 'max(x[i:])',
    # elementwise, fused
    'sum(abs(x))', 'sum(sqrt(abs(x)))', 'mean(exp(-abs(x)))', 'sum(expm1(x[:3]))', 'sum(log(abs(x) + 1))',
    'sum(log1p(abs(x)))', 'sum(log2(abs(x)))', 'sum(log10(abs(x) + 1e-3))', 'sum(sin(x)) + sum(cos(x))',
    'sum(tan(x / 10))', 'sum(arcsin(clip(x / 10, -1, 1)))', 'mean(arccos(clip(x, -1, 1)))', 'sum(arctan(x))',
    'sum(arctan2(x, v))', 'sum(sinh(clip(x, -5, 5)))', 'sum(cosh(clip(x, -5, 5)))', 'sum(tanh(x))',
    'sum(floor(x)) - sum(ceil(x))', 'sum(round(x * 2.5))', 'sum(sign(x))', 'count_nonzero(isnan(x))',
    'count_nonzero(isinf(x))', 'sum(isfinite(x))', 'sum(minimum(x, v))', 'sum(maximum(x, 0))',
    'sum(clip(x, -1, 1))', 'x.clip(0, 2).sum()', 'sum(hypot(x, v))', 'sum(where(isnan(x), 0, x))',
    'sum(where(x > alpha, 1, -1))', 'sum(x.round())',
    # arrays to arrays
    'sum(diff(x))', 'sum(diff(diff(x)))', 'cumsum(x)[-1]', 'max(cumsum(x))', 'x.cumsum()[3]',
    'sort(x)[0]', 'sort(x)[-1]', 'sum(sort(x)[:3])', 'median(sort(x))', 'diff(sort(x))[0]',
    'sum(cumsum(x > 0))', 'count_nonzero(diff(x > 0))',
    # operators and numeric corners
    'x[0] // 0.3', 'x[0] % 0.7', '-x[0] // 0.3', 'x[0] // 0', 'x[0] % 0', 'x[0] / 0', '0 / 0 + x[0]',
    'sum(x // 2)', 'sum(x % 3)', 'sum(-x % 2)', 'x[0] ** 2', 'sum(x ** 2)', 'sum(abs(x) ** 0.5)',
    'sum(abs(x) ** 1.5)', 'x[1] ** 3', '2 ** x[0]', '(-8) ** (1/3) + x[0]', '1 ** nan', 'x[0] ** 0',
    '-3 // 0.3', '-7.0 % 0.7', '-7 % 2', 'round(2.5)', 'round(-0.5)', 'round(x[0])', 'pi * e + x[0]',
    'inf - inf', '-inf + x[0]', '1e308 * 10 + x[0]', 'x[0] * 1e-320', 'sum(x * 1e300)',
    # indexing and slicing
    'x[0]', 'x[-1]', 'x[n-1]', 'x[i]', 'x[-i-1]', 'x[i+7]', 'sum(x[::2])', 'sum(x[1::3])', 'sum(x[::-1])',
    'x[::-1][0]', 'sum(x[-3:])', 'sum(x[:-3])', 'sum(x[10:100])', 'sum(x[-100:2])', 'sum(x[::-2])',
    'sum(x[8:2:-2])', 'x[::i+1][-1]', 'sum(x[i:])', 'sum(x[:i])', 'len(x[::k])', 'x[int_k]',
    '(x * 2)[3]', 'diff(x)[-1]', 'sum((x - v)[2:5])', 'v[i]', 'sum(v)', 'sum(x * v)', 'data[i * n]',
    'data[-1]', 'sum(data[::7])', 'dataset.flatten()[::rows][i]', 'sum(x[0:1] + x)',
    'sum(x[i:i+1] * x)',
    # booleans
    'sum((x > 0) & (x < 1))', 'sum((x < -1) | (x > 1))', 'sum(~(x > 0))', 'sum((x > 0) + (x > 1))',
    'sum((x > 0) * (x > 1))', 'sum((x > 0) * 2.5)', 'x[0] > 0', 'True + True', 'True * 3', 'not x[0] > 0',
    'x[0] > 0 and x[1] > 0', 'x[0] or 5', 'x[0] and 5', '0 < x[0] < 1', 'x[0] < x[1] < x[2]',
    '1 if x[0] > x[1] else -1', 'x[i] if i < 3 else x[0]', 'x[20] if i > 100 else 1.5',
    'x[0] == x[0]', 'x[0] != x[0]', 'sum(x == x)',
    # args and constants
    'alpha * sum(x)', 'sum(x > k)', 'x[0] * k + alpha', 'mean(x) if alpha > 0 else nan',
    'i + n + rows', 'sum(x) / n', 'sum(x ** 2) / len(x) - mean(x) ** 2',
    'sum((x - mean(x)) ** 2) / (n - 1)', 'max(x) - min(x)', 'argmax(x) - argmin(x)',
]


def make_datasets():
    """(name, dtype, array) for every dtype: normal values, each float one with hostile values."""
    out = []
    rows = 6
    hostile = [np.nan, np.inf, -np.inf, -0.0, 1e300, -1e300, 1e-300, 5e-324]
    for dtype in ['float64', 'float32', 'float16']:
        a = RNG.normal(0, 2, (rows, ROW_LENGTH))
        a[1, 3] = np.nan
        a[2, 0] = np.inf
        a[2, 5] = -np.inf
        a[3, :] = -0.0
        a[4, 2] = hostile[4]
        a[4, 7] = hostile[5]
        a[5, 1] = hostile[6]
        a[5, 9] = hostile[7]
        with np.errstate(all='ignore'):
            out.append((dtype, dtype, a.astype(dtype)))
    for dtype in ['int8', 'uint8', 'int16', 'int32', 'int64', 'uint64']:
        info = np.iinfo(dtype)
        a = RNG.integers(-5 if info.min < 0 else 0, 6, (rows, ROW_LENGTH)).astype(dtype)
        a[0, 0] = info.max
        a[0, 1] = info.min
        if dtype == 'int64':
            a[1, 2] = 2**62 + 1
            a[1, 3] = -(2**62) - 3
        out.append((dtype, dtype, a))
    out.append(('bool', 'bool', RNG.integers(0, 2, (rows, ROW_LENGTH)).astype(bool)))
    out.append(('float64_3d', 'float64', RNG.normal(0, 1, (4, 3, 4))))
    out.append(('float64_empty_rows', 'float64', np.zeros((3, 0))))
    return out


class Literals(ast.NodeTransformer):
    """Numbers become float64 scalars, True/False NumPy bools, and index parts go through _ix."""

    def visit_Constant(self, node):
        if isinstance(node.value, bool):
            return ast.copy_location(ast.Name('_T' if node.value else '_F', ast.Load()), node)
        if isinstance(node.value, (int, float)):
            return ast.copy_location(ast.Call(ast.Name('_f', ast.Load()), [node], []), node)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        wrap = lambda e: None if e is None else ast.Call(ast.Name('_ix', ast.Load()), [e], [])
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            node.slice = ast.Slice(wrap(s.lower), wrap(s.upper), wrap(s.step))
        else:
            node.slice = wrap(node.slice)
        return node


def _ix(value):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError('boolean index')
    f = float(value)
    if f != math.floor(f):
        raise IndexError('non-integer index')
    return int(f)


def as_float(f):
    return lambda *a, **k: np.float64(f(*a, **k))


FUNCTIONS = {
    **{name: getattr(np, name) for name in [
        'abs', 'sqrt', 'exp', 'expm1', 'log', 'log1p', 'log2', 'log10', 'sin', 'cos', 'tan', 'arcsin',
        'arccos', 'arctan', 'arctan2', 'sinh', 'cosh', 'tanh', 'floor', 'ceil', 'round', 'sign', 'isnan',
        'isinf', 'isfinite', 'minimum', 'maximum', 'clip', 'where', 'hypot', 'diff', 'cumsum', 'sort',
        'sum', 'mean', 'prod', 'min', 'max', 'std', 'var', 'any', 'all', 'median', 'quantile', 'dot']},
    'argmin': as_float(np.argmin),
    'argmax': as_float(np.argmax),
    'count_nonzero': as_float(np.count_nonzero),
    'len': as_float(len),
    'norm': np.linalg.norm,
}


def evaluate(text, data, i, vector, args):
    tree = ast.fix_missing_locations(Literals().visit(ast.parse(text, mode='eval')))
    flat = data.ravel().astype(np.float64)
    names = {
        **FUNCTIONS,
        '_f': np.float64, '_T': np.True_, '_F': np.False_, '_ix': _ix,
        'x': data[i].ravel().astype(np.float64), 'i': np.float64(i),
        'n': np.float64(data[i].size), 'rows': np.float64(data.shape[0]),
        'data': flat, 'dataset': flat, 'v': np.asarray(vector, dtype=np.float64),
        'nan': np.float64(np.nan), 'inf': np.float64(np.inf), 'pi': np.float64(np.pi), 'e': np.float64(np.e),
        'int_k': np.float64(int(args['k'])),
        **{k: np.float64(val) for k, val in args.items()},
    }
    result = eval(compile(tree, '<expr>', 'eval'), {}, names)
    if np.ndim(result) != 0:
        raise RuntimeError(f'{text} is array-valued')
    return float(result)


def encode(value):
    if math.isnan(value):
        return 'nan'
    if math.isinf(value):
        return 'inf' if value > 0 else '-inf'
    return value


def main():
    os.makedirs(OUT, exist_ok=True)
    warnings.simplefilter('ignore')
    datasets = []
    cases = []
    for name, dtype, array in make_datasets():
        file = f'{name}.bin'
        with open(os.path.join(OUT, file), 'wb') as f:
            f.write(np.ascontiguousarray(array).astype(array.dtype.newbyteorder('<')).tobytes())
        datasets.append({'name': name, 'dtype': dtype, 'shape': list(array.shape), 'file': file})
        for text in EXPRESSIONS:
            results = []
            for i in range(array.shape[0]):
                with np.errstate(all='ignore'):
                    try:
                        results.append(encode(evaluate(text, array, i, VECTOR, ARGS)))
                    except (IndexError, ValueError) as error:
                        results.append({'error': type(error).__name__, 'message': str(error)})
            cases.append({'dataset': name, 'expr': text, 'results': results})
    manifest = {
        'numpy': np.__version__,
        'vector': VECTOR,
        'args': {**ARGS, 'int_k': float(int(ARGS['k']))},
        'datasets': datasets,
        'expressions': EXPRESSIONS,
        'cases': cases,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=0)
    print(f'{len(EXPRESSIONS)} expressions x {len(datasets)} datasets, numpy {np.__version__}')


if __name__ == '__main__':
    main()
