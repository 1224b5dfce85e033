"""The ``.npy`` format on the wire: arrays streamed out without a second copy, and read back into one buffer."""

from __future__ import annotations

import io
import struct
from itertools import chain
from typing import Iterable, Iterator, Tuple, Union

import numpy as np
from numpy.lib import format as npy_format

CHUNK_BYTES = 1 << 20

#: What the server stores, as NumPy names it.
SUPPORTED_DTYPES = frozenset("float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool".split())

Chunk = Union[bytes, memoryview]


def check_dtype(dtype: np.dtype) -> None:
    if dtype.fields is not None or dtype.name not in SUPPORTED_DTYPES:
        raise TypeError(f"rowpool stores {', '.join(sorted(SUPPORTED_DTYPES))}; got dtype {dtype}")


def memory_bytes(array: np.ndarray) -> np.ndarray:
    """The bytes of a C- or Fortran-contiguous array in memory order, as a uint8 view (never a copy)."""
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        raise ValueError("the array is not contiguous")
    return array.ravel(order="K").view(np.uint8)


def encode_header(array: np.ndarray) -> bytes:
    """A version 1.0 header for ``array`` (2.0 when it does not fit 1.0), matching ``stream_body``'s order."""
    header = npy_format.header_data_from_array_1_0(array)
    out = io.BytesIO()
    try:
        npy_format.write_array_header_1_0(out, header)
    except ValueError:
        out = io.BytesIO()
        npy_format.write_array_header_2_0(out, header)
    return out.getvalue()


def _memory_chunks(data: np.ndarray) -> Iterator[Chunk]:
    view = data.data
    for start in range(0, len(view), CHUNK_BYTES):
        yield view[start : start + CHUNK_BYTES]


def _row_chunks(array: np.ndarray) -> Iterator[Chunk]:
    """A non-contiguous array in C order, a block of rows at a time: only one block is ever copied."""
    row_bytes = max(1, array.itemsize * int(np.prod(array.shape[1:])))
    step = max(1, CHUNK_BYTES // row_bytes)
    for start in range(0, array.shape[0], step):
        yield from _memory_chunks(memory_bytes(np.ascontiguousarray(array[start : start + step])))


def encode_npy(array: np.ndarray) -> Tuple[int, Iterator[Chunk]]:
    """The length of ``array`` as ``.npy`` and its bytes as chunks, streamed from the array's own memory."""
    check_dtype(array.dtype)
    header = encode_header(array)
    contiguous = array.flags.c_contiguous or array.flags.f_contiguous
    body = _memory_chunks(memory_bytes(array)) if contiguous else _row_chunks(array)
    return len(header) + array.nbytes, chain([header], body)


def _read_header(chunks: Iterator[bytes]) -> Tuple[np.ndarray, bytearray]:
    """Reads chunks until the header is complete; the array to fill and the body bytes already read."""
    buffer = bytearray()

    def need(size: int) -> None:
        while len(buffer) < size:
            try:
                buffer.extend(next(chunks))
            except StopIteration:
                raise ValueError("the .npy body ended inside its header") from None

    need(10)
    major = buffer[6]
    length_size = 2 if major == 1 else 4
    need(8 + length_size)
    (header_length,) = struct.unpack("<H" if length_size == 2 else "<I", buffer[8 : 8 + length_size])
    offset = 8 + length_size + header_length
    need(offset)
    head = io.BytesIO(bytes(buffer[:offset]))
    version = npy_format.read_magic(head)
    read = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    shape, fortran_order, dtype = read(head)
    array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
    return array, buffer[offset:]


def decode_npy(chunks: Iterable[bytes]) -> np.ndarray:
    """An array from ``.npy`` bytes arriving in chunks, each copied once, straight into the array's memory."""
    stream = iter(chunks)
    array, first = _read_header(stream)
    target = memory_bytes(array)
    filled = 0
    pieces: Iterable[Union[bytes, bytearray]] = chain([first], stream)
    for chunk in pieces:
        end = filled + len(chunk)
        if end > target.size:
            raise ValueError(f"the .npy body has more than the {target.size} data bytes its header declares")
        target[filled:end] = np.frombuffer(chunk, dtype=np.uint8)
        filled = end
    if filled != target.size:
        raise ValueError(f"the .npy body ended after {filled} of {target.size} data bytes")
    return array
