/**
 * The uploaded data: a fixed cycle of a few pre-generated chunks. Generating 1 GiB while uploading
 * would spend the CPU the server needs (client and server share this process and its main thread),
 * and a second 1 GiB copy would distort the server's memory figures; a cycle of small immutable
 * chunks costs neither and can be written again while an earlier write of it is still queued.
 */
export const CHUNK_BYTES = 4 * 2 ** 20;
const CHUNK_ELEMENTS = CHUNK_BYTES / 8;
const CYCLE = 2;

/** A float64 in [0, 1) from a hash of its index: cheap, deterministic, no two neighbours alike. */
function valueAt(index: number): number {
  let h = Math.imul(index ^ (index >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
}

const chunks = Array.from({ length: CYCLE }, (_, c) => {
  const values = new Float64Array(CHUNK_ELEMENTS);
  for (let i = 0; i < CHUNK_ELEMENTS; i++) values[i] = valueAt(c * CHUNK_ELEMENTS + i);
  return new Uint8Array(values.buffer);
});
const views = chunks.map((c) => new Float64Array(c.buffer));

/** Bytes of chunk `index` of the stream; chunks are read-only and shared between calls. */
export function chunk(index: number): Uint8Array {
  return chunks[index % CYCLE];
}

/** Element `index` of the stream, as a float64. */
export function element(index: number): number {
  return views[Math.floor(index / CHUNK_ELEMENTS) % CYCLE][index % CHUNK_ELEMENTS];
}

/** The sum of row `row` of the stream read as rows of `rowLength`, for checking a job's answer. */
export function rowSum(row: number, rowLength: number): number {
  let sum = 0;
  for (let i = row * rowLength; i < (row + 1) * rowLength; i++) sum += element(i);
  return sum;
}

/** A .npy v1.0 header for a little-endian float64 C-order array, padded to 64 bytes as NumPy does. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return header;
}

/** Deterministic pseudo-random vector for dot, with few enough digits to keep the JSON small. */
export function vector(length: number): number[] {
  return Array.from({ length }, (_, i) => Math.round(valueAt(i + 0x9e3779b9) * 2000 - 1000) / 1000);
}
