/** Reads test/fixtures/expr (written by scripts/expr-goldens.py) into what the kernels take. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DType } from '../../src/datasets/dtypes.js';
import { CODECS, type RawView } from '../../src/jobs/kernels/convert.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'expr');

export type Golden = number | { error: string; message: string };

export interface GoldenDataset {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly rows: number;
  readonly rowLength: number;
  /** The stored elements, viewed as convert.ts's codec views them. */
  readonly raw: RawView;
  /** Every element as float64, rows in order: what the worker hands a kernel. */
  readonly float64: Float64Array;
}

export interface GoldenManifest {
  readonly numpy: string;
  readonly vector: number[];
  readonly args: Record<string, number>;
  readonly datasets: GoldenDataset[];
  readonly expressions: string[];
  readonly cases: { dataset: string; expr: string; results: Golden[] }[];
}

function decode(value: number | string | { error: string; message: string }): Golden {
  if (value === 'nan') return Number.NaN;
  if (value === 'inf') return Number.POSITIVE_INFINITY;
  if (value === '-inf') return Number.NEGATIVE_INFINITY;
  return value as Golden;
}

export function loadGoldens(): GoldenManifest {
  const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
  const datasets = manifest.datasets.map(
    (d: { name: string; dtype: DType; shape: number[]; file: string }) => {
      const bytes = readFileSync(join(DIR, d.file));
      const buffer = new ArrayBuffer(bytes.length + 8);
      new Uint8Array(buffer).set(bytes);
      const total = d.shape.reduce((a, b) => a * b, 1);
      const codec = CODECS[d.dtype];
      const raw = codec.view(buffer, 0, total);
      const float64 = new Float64Array(total);
      codec.gather(raw, 0, 1, total, float64);
      const rows = d.shape[0];
      return { ...d, rows, rowLength: rows === 0 ? 0 : total / rows, raw, float64 };
    },
  );
  const cases = manifest.cases.map((c: { dataset: string; expr: string; results: unknown[] }) => ({
    ...c,
    results: c.results.map((r) => decode(r as number)),
  }));
  return { ...manifest, datasets, cases };
}

/** 1e-9 relative; NaN only equals NaN and infinities must match exactly. */
export function close(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= 1e-9 * Math.max(Math.abs(expected), Math.abs(actual));
}
