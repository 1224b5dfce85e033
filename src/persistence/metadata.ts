import { type DType, isDType } from '../datasets/dtypes.js';

/** What is kept beside a dataset's `.npy` file: enough to serve it again exactly as it was. */
export interface StoredMetadata {
  readonly version: 1;
  readonly id: string;
  readonly name: string | null;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Data bytes, after the `.npy` header. */
  readonly bytes: number;
  readonly createdAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isDatasetId(text: string): boolean {
  return UUID.test(text);
}

export function encodeMetadata(meta: StoredMetadata): Buffer {
  return Buffer.from(`${JSON.stringify(meta)}\n`);
}

/** The metadata in a file's text, or why it cannot be trusted. */
export function decodeMetadata(text: string, expectedId: string): StoredMetadata | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the metadata is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the metadata is not an object';
  const m = value as Record<string, unknown>;
  if (m.version !== 1) return `metadata version ${String(m.version)} is not 1`;
  if (m.id !== expectedId) return 'the metadata names another id than its file';
  if (m.name !== null && typeof m.name !== 'string') return 'the name is neither a string nor null';
  if (typeof m.dtype !== 'string' || !isDType(m.dtype)) return 'the dtype is unknown';
  if (!Array.isArray(m.shape) || m.shape.length === 0 || !m.shape.every(isCount)) {
    return 'the shape is not a list of non-negative integers';
  }
  if (!isCount(m.bytes)) return 'the byte count is not a non-negative integer';
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) {
    return 'createdAt is not a date';
  }
  return {
    version: 1,
    id: m.id,
    name: m.name,
    dtype: m.dtype,
    shape: m.shape as number[],
    bytes: m.bytes as number,
    createdAt: m.createdAt,
  };
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
