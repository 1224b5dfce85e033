/**
 * Per-dtype SIMD kernel throughput against the read ceiling of the same bytes, on one and two
 * threads, measured side by side in one run: `node --import tsx bench/ceiling-kernels.ts
 * [reps] [dtype…]` (every dtype by default). GB/s count the dtype's own bytes (10⁹ bytes a second); each figure is the best of the
 * reps, and the reps interleave the ops so load on the machine spreads over all of them.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DTYPE_INFO, DTYPES, type DType } from '../src/datasets/dtypes.js';
import type { PassRequest } from './ceiling-kernels-worker.js';

const SHAPES = [
  { rows: 200000, cols: 256 },
  { rows: 100000, cols: 1000 },
] as const;
const OPS = ['ceiling', 'sum', 'dot', 'dotMany'] as const;
const REPS = Number(process.argv[2] ?? 4);
const ONLY = process.argv.slice(3);
const PAGE = 65536;

// On Node 20 tsx reaches a worker only through its require hook.
const WORKER_FILE = fileURLToPath(new URL('./ceiling-kernels-worker.ts', import.meta.url));
const workers = [0, 1].map(
  () => new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER_FILE)});`, { eval: true }),
);

function run(worker: Worker, request: PassRequest): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(request);
  });
}

/** Plausible values of each dtype: no NaN or subnormal patterns to take slow paths. */
function fillPattern(dtype: DType, view: DataView, bytes: number): void {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const size = DTYPE_INFO[dtype].itemsize;
  for (let at = 0; at + size <= bytes; at += size) {
    const x = next() * 2 - 1;
    switch (dtype) {
      case 'float64':
        view.setFloat64(at, x, true);
        break;
      case 'float32':
        view.setFloat32(at, x, true);
        break;
      case 'float16':
        view.setUint16(
          at,
          (x < 0 ? 0x8000 : 0) | ((10 + Math.floor(next() * 10)) << 10) | (seed & 0x3ff),
          true,
        );
        break;
      case 'int64':
      case 'uint64':
        view.setBigInt64(at, BigInt(Math.floor(next() * 2 ** 40)), true);
        break;
      default:
        for (let b = 0; b < size; b++) view.setUint8(at + b, Math.floor(next() * 256));
    }
  }
}

interface Row {
  shape: string;
  dtype: DType;
  threads: number;
  best: Record<(typeof OPS)[number], number>;
}

const rows: Row[] = [];
for (const shape of SHAPES) {
  for (const dtype of DTYPES.filter((d) => ONLY.length === 0 || ONLY.includes(d))) {
    const itemsize = DTYPE_INFO[dtype].itemsize;
    const bytes = shape.rows * shape.cols * itemsize;
    const q = Math.ceil(bytes / 8) * 8;
    const out = q + shape.cols * 8;
    const memory = new WebAssembly.Memory({
      initial: Math.ceil((out + shape.rows * 8) / PAGE),
      maximum: 65536,
      shared: true,
    });
    const pattern = Math.min(bytes, 1 << 20);
    const u8 = new Uint8Array(memory.buffer);
    fillPattern(dtype, new DataView(memory.buffer), pattern);
    for (let at = pattern; at < bytes; at += pattern) u8.copyWithin(at, 0, Math.min(pattern, bytes - at));
    const vector = new Float64Array(memory.buffer, q, shape.cols);
    for (let i = 0; i < shape.cols; i++) vector[i] = Math.sin(i);
    for (const threads of [1, 2]) {
      const times: Record<string, number[]> = Object.fromEntries(OPS.map((op) => [op, []]));
      for (let rep = -1; rep < REPS; rep++) {
        for (const op of OPS) {
          const share = Math.ceil(shape.rows / threads);
          const started = performance.now();
          await Promise.all(
            workers.slice(0, threads).map((w, t) =>
              run(w, {
                memory,
                dtype,
                itemsize,
                cols: shape.cols,
                r0: Math.min(shape.rows, t * share),
                r1: Math.min(shape.rows, (t + 1) * share),
                op,
                q,
                out,
              }),
            ),
          );
          if (rep >= 0) times[op].push(performance.now() - started);
        }
      }
      const best = Object.fromEntries(
        OPS.map((op) => [op, bytes / (Math.min(...times[op]) / 1000) / 1e9]),
      ) as Row['best'];
      const row = { shape: `${shape.rows}x${shape.cols}`, dtype, threads, best };
      rows.push(row);
      const pct = (op: (typeof OPS)[number]) => `${((100 * best[op]) / best.ceiling).toFixed(0)}%`;
      process.stdout.write(
        `| ${row.shape} | ${dtype} | ${threads} | ${best.ceiling.toFixed(1)} | ${best.sum.toFixed(1)} (${pct('sum')}) | ` +
          `${best.dot.toFixed(1)} (${pct('dot')}) | ${best.dotMany.toFixed(1)} (${pct('dotMany')}) | ` +
          `${((bytes / best.dotMany / 1e9) * 1000).toFixed(2)} ms |\n`,
      );
    }
  }
}
await Promise.all(workers.map((w) => w.terminate()));
