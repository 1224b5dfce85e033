import { workerData } from 'node:worker_threads';

/**
 * A pool worker for pool.test.ts: the first two threads load at once, every later one (a replacement)
 * takes `loadMs` to load, as a cold thread loading a large module graph does. A task either spins
 * forever, to be stopped by terminating its thread, or works for `ms` milliseconds.
 */
const { started, loadMs } = workerData as { started: SharedArrayBuffer; loadMs: number };
if (Atomics.add(new Int32Array(started), 0, 1) >= 2) {
  const until = Date.now() + loadMs;
  while (Date.now() < until);
}

export default function run(task: { spin?: boolean; ms?: number }) {
  const startedAt = performance.now();
  while (task.spin === true || performance.now() - startedAt < (task.ms ?? 0));
  return { rowsDone: 0, cancelled: false, runSeconds: (performance.now() - startedAt) / 1000 };
}
