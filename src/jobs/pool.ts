import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { collectGarbage } from '../reclaim.js';
import type { ChunkOutcome, ChunkTask, WorkerData } from './task.js';

/** The worker next to this module: `worker.ts` under tsx/vitest, `worker.js` in compiled output. */
export const DEFAULT_WORKER = new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export interface RowPool {
  run(task: ChunkTask): Promise<ChunkOutcome>;
  readonly threads: number;
  readonly queueSize: number;
  readonly utilization: number;
  /** Resolves once the workers answer a task, so the worker module has loaded; rejects if it cannot. */
  warmUp(): Promise<void>;
  /** Collects garbage in every thread now, so memory of dropped buffers is returned at once. */
  reclaim(): void;
  close(): Promise<void>;
}

/**
 * One long-lived pool for the life of the app: every thread starts at once and never idles out.
 * Atomics are off: with them, an idle Piscina worker blocks its event loop ('sync', so the reclaim
 * listener never runs) or parks inside the handler of its last task ('async', whose frame keeps that
 * task's buffers reachable until the next task arrives, so a deleted dataset could not be freed).
 */
export function createPool(
  threads: number,
  workerFile: URL = DEFAULT_WORKER,
  extraWorkerData: Record<string, unknown> = {},
): RowPool {
  const reclaimSignal = new SharedArrayBuffer(4);
  const signal = new Int32Array(reclaimSignal);
  const workerData: WorkerData = { ...extraWorkerData, reclaimSignal };
  const filename = fileURLToPath(workerFile);
  const piscina = new Piscina<ChunkTask, ChunkOutcome>({
    filename,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    atomics: 'disabled',
    workerData,
    execArgv: filename.endsWith('.ts') ? ['--import', 'tsx'] : [],
  });
  return {
    run: (task) => piscina.run(task),
    threads,
    get queueSize() {
      return piscina.queueSize;
    },
    get utilization() {
      return piscina.utilization;
    },
    async warmUp() {
      const tiny = new SharedArrayBuffer(8);
      const empty: ChunkTask = {
        op: 'sum',
        dtype: 'float64',
        data: tiny,
        rows: 0,
        rowLength: 1,
        ddof: 0,
        ord: 2,
        q: 0,
        vector: null,
        r0: 0,
        r1: 0,
        result: tiny,
        resultIndex: 0,
        control: tiny,
      };
      await Promise.all(Array.from({ length: threads }, () => piscina.run(empty)));
    },
    reclaim() {
      Atomics.add(signal, 0, 1);
      Atomics.notify(signal, 0);
      // After the current call stack, which may still hold the last reference, has unwound.
      setImmediate(collectGarbage);
    },
    close: () => piscina.destroy(),
  };
}
