/**
 * The element types rowpool stores, named as NumPy names them. Everything is held little-endian
 * (the byte order of every platform Node ships for), so a stored dtype needs no byte-order flag.
 */
export const DTYPES = [
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
] as const;

export type DType = (typeof DTYPES)[number];

export interface DTypeInfo {
  readonly itemsize: number;
  /** NumPy's kind character: f float, i signed, u unsigned, b bool. */
  readonly kind: 'f' | 'i' | 'u' | 'b';
}

export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  float16: { itemsize: 2, kind: 'f' },
  float32: { itemsize: 4, kind: 'f' },
  float64: { itemsize: 8, kind: 'f' },
  int8: { itemsize: 1, kind: 'i' },
  int16: { itemsize: 2, kind: 'i' },
  int32: { itemsize: 4, kind: 'i' },
  int64: { itemsize: 8, kind: 'i' },
  uint8: { itemsize: 1, kind: 'u' },
  uint16: { itemsize: 2, kind: 'u' },
  uint32: { itemsize: 4, kind: 'u' },
  uint64: { itemsize: 8, kind: 'u' },
  bool: { itemsize: 1, kind: 'b' },
};

export const SUPPORTED_DTYPES_TEXT = DTYPES.join(', ');

export function isDType(name: string): name is DType {
  return Object.hasOwn(DTYPE_INFO, name);
}

/** The little-endian NumPy type string for a dtype, e.g. `<f8`, `|u1`, `|b1`. */
export function descrOf(dtype: DType): string {
  const { itemsize, kind } = DTYPE_INFO[dtype];
  return `${itemsize === 1 ? '|' : '<'}${kind}${itemsize}`;
}

const BY_TYPESTR = new Map<string, DType>(DTYPES.map((d) => [descrOf(d).slice(1), d]));

export interface ParsedDescr {
  readonly dtype: DType;
  readonly bigEndian: boolean;
}

/**
 * Reads a NumPy array-protocol type string (`<f8`, `>i4`, `|b1`, `=u2`). Returns undefined for a
 * well-formed string of a type rowpool does not hold (object, complex, string, datetime, void…).
 */
export function parseDescr(descr: string): ParsedDescr | undefined {
  const order = descr[0];
  if (order !== '<' && order !== '>' && order !== '|' && order !== '=') return undefined;
  const dtype = BY_TYPESTR.get(descr.slice(1));
  if (dtype === undefined) return undefined;
  return { dtype, bigEndian: order === '>' && DTYPE_INFO[dtype].itemsize > 1 };
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
