import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Reclaimer } from '../reclaim.js';
import { workerBeside, workerExecArgv } from '../worker-file.js';
import {
  type ChunkOutcome,
  type ChunkTask,
  CONTROL_BYTES,
  chunkPlan,
  chunkTask,
  type WorkerData,
} from './task.js';

export const DEFAULT_WORKER = workerBeside('worker', import.meta.url);

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Piscina's least-busy choice, made among threads that have loaded the worker module only. When a
 * thread is replaced (a runaway kernel's is terminated), Piscina 5.3 offers queued tasks to the
 * still-loading thread first, and they wait out its start while the other thread idles
 * (piscinajs/piscina#1056): measured on the compiled service, the next 2-thread job took the new
 * thread's whole load time, about 0.4-0.6 s, instead of 50 ms. With one task per thread (Piscina's
 * default), the least busy thread is an idle one; none idle leaves the task queued for the next.
 */
export function readyThreadsBalancer(ready: ReadonlySet<number>): Balancer {
  return (_task, workers) =>
    workers.find((worker) => worker.currentUsage === 0 && ready.has(worker.id)) ?? null;
}

export interface RunOptions {
  /** Aborting it rejects the task with an AbortError; a running task's thread is terminated and replaced. */
  readonly signal?: AbortSignal;
}

export interface RowPool {
  run(task: ChunkTask, options?: RunOptions): Promise<ChunkOutcome>;
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
  reclaimer: Reclaimer,
  workerFile: URL = DEFAULT_WORKER,
  extraWorkerData: Record<string, unknown> = {},
): RowPool {
  const workerData: WorkerData = { ...extraWorkerData, reclaimSignal: reclaimer.signal };
  const filename = fileURLToPath(workerFile);
  const ready = new Set<number>();
  const piscina = new Piscina<ChunkTask, ChunkOutcome>({
    filename,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    atomics: 'disabled',
    workerData,
    execArgv: workerExecArgv(workerFile),
    loadBalancer: readyThreadsBalancer(ready),
  });
  // Piscina reports a thread as created once it is ready for tasks (the first ones at once).
  piscina.on('workerCreate', (worker: { id: number }) => ready.add(worker.id));
  piscina.on('workerDestroy', (worker: { id: number }) => ready.delete(worker.id));
  // Piscina's own utilization divides seconds by milliseconds (about 1000x low), so the same figure,
  // busy thread-time over thread-time since start, is kept here from each task's measured run time.
  const startedMs = performance.now();
  let busySeconds = 0;
  return {
    async run(task, options = {}) {
      const outcome = await piscina.run(task, { signal: options.signal });
      busySeconds += outcome.runSeconds;
      return outcome;
    },
    threads,
    get queueSize() {
      return piscina.queueSize;
    },
    get utilization() {
      const capacity = ((performance.now() - startedMs) / 1000) * threads;
      return capacity > 0 ? Math.min(1, busySeconds / capacity) : 0;
    },
    async warmUp() {
      const tiny = new SharedArrayBuffer(8);
      // A float64 dataset in a WebAssembly memory, rows long enough for SIMD: each worker compiles now.
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      const dataset = {
        id: '',
        dtype: 'float64' as const,
        segments: [
          { buffer: memory.buffer as unknown as SharedArrayBuffer, memory, firstRow: 0, rows: 0, bytes: 0 },
        ],
        segmentRows: 1,
        rows: 0,
        rowLength: 128,
      };
      // One chunk of no rows for each thread, each its own job, so every thread claims one and runs it.
      const empty = () =>
        chunkTask('sum', {}, dataset, {
          plan: chunkPlan([0, 0], [0]),
          chunks: 1,
          result: tiny,
          control: new SharedArrayBuffer(CONTROL_BYTES),
          pressure: tiny,
        });
      await Promise.all(Array.from({ length: threads }, () => piscina.run(empty())));
    },
    reclaim: () => reclaimer.reclaim(),
    close: () => piscina.destroy(),
  };
}
