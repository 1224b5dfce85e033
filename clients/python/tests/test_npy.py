"""The .npy encoder and decoder on their own: exact bytes, memory shared rather than copied, bad input refused."""

import io

import numpy as np
import pytest

from rowpool._npy import CHUNK_BYTES, decode_npy, encode_npy


def encoded(array: np.ndarray) -> bytes:
    size, chunks = encode_npy(array)
    data = b"".join(bytes(chunk) for chunk in chunks)
    assert len(data) == size
    return data


def saved(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


RNG = np.random.default_rng(7)
BASE = RNG.standard_normal((300, 40))


@pytest.mark.parametrize(
    "array",
    [
        BASE,
        np.asfortranarray(BASE),
        BASE[:, ::3],
        BASE[::-2],
        BASE.astype(">f4"),
        np.arange(10, dtype=np.int16),
        np.array([True, False, True]),
        RNG.integers(0, 255, (4, 5, 6), dtype=np.uint8)[:, 1:4, ::2],
    ],
    ids=["c", "fortran", "strided-columns", "reversed-rows", "big-endian", "1-d", "bool", "3-d-view"],
)
def test_encode_round_trips_through_numpy(array: np.ndarray) -> None:
    loaded = np.load(io.BytesIO(encoded(array)))
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == array.dtype


def test_contiguous_arrays_are_streamed_from_their_own_memory() -> None:
    for array in (BASE, np.asfortranarray(BASE)):
        _, chunks = encode_npy(array)
        next(chunks)  # the header
        first = np.frombuffer(next(chunks), dtype=np.uint8)
        assert np.shares_memory(first, array)


def test_non_contiguous_arrays_are_streamed_in_bounded_chunks() -> None:
    array = np.zeros((2000, 300))[:, ::2]
    _, chunks = encode_npy(array)
    sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) <= CHUNK_BYTES
    assert sum(sizes[1:]) == array.nbytes


def test_unsupported_dtypes_are_refused_before_sending() -> None:
    with pytest.raises(TypeError, match="complex128"):
        encode_npy(np.zeros(3, dtype=complex))


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_decode_reads_any_chunking(chunk: int) -> None:
    array = RNG.standard_normal((50, 3)).astype(np.float32)
    data = saved(array)
    decoded = decode_npy(data[i : i + chunk] for i in range(0, len(data), chunk))
    np.testing.assert_array_equal(decoded, array)
    assert decoded.dtype == array.dtype and decoded.flags.c_contiguous


def test_decode_keeps_fortran_order() -> None:
    array = np.asfortranarray(RNG.standard_normal((6, 4)))
    decoded = decode_npy([saved(array)])
    np.testing.assert_array_equal(decoded, array)
    assert decoded.flags.f_contiguous


def test_decode_refuses_truncated_and_overlong_bodies() -> None:
    data = saved(np.arange(10.0))
    with pytest.raises(ValueError, match="ended after 72 of 80"):
        decode_npy([data[:-8]])
    with pytest.raises(ValueError, match="more than the 80"):
        decode_npy([data + b"x"])
    with pytest.raises(ValueError, match="inside its header"):
        decode_npy([data[:20]])
