import { setTimeout as sleep } from 'node:timers/promises';

export const MiB = 2 ** 20;

export const rss = (): number => process.memoryUsage.rss();

/** A full collection on this thread; `npm run bench` passes --expose-gc. */
export function collect(): void {
  if (globalThis.gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  globalThis.gc();
}

/** RSS once garbage is collected and the workers' reclaim has had a moment to run. */
export async function settledRss(): Promise<number> {
  collect();
  await sleep(200);
  collect();
  return rss();
}

/**
 * Samples RSS every `intervalMs` on a timer. The timer runs between the upload's I/O callbacks on
 * this event loop, so a sample can be late but the peak of a steady climb is not missed by much;
 * the kernel's own high-water mark (maxRSS) is kept as a check on it.
 */
export class PeakSampler {
  #peak = rss();
  readonly #maxRssBefore = process.resourceUsage().maxRSS * 1024;
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs = 20) {
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, rss());
    }, intervalMs);
  }

  /**
   * The peak seen; the kernel's maxRSS counts too when it rose during sampling, since only then is
   * it this interval's peak rather than an earlier one's.
   */
  stop(): number {
    clearInterval(this.#timer);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    this.#peak = Math.max(this.#peak, rss());
    return maxRss > this.#maxRssBefore ? Math.max(this.#peak, maxRss) : this.#peak;
  }
}

/** Polls RSS until it is at most `target` or `timeoutMs` have passed since `started`. */
export async function waitForRss(
  target: number,
  timeoutMs: number,
  started = performance.now(),
  intervalMs = 10,
): Promise<{ rss: number; ms: number; met: boolean }> {
  for (;;) {
    const now = rss();
    const ms = performance.now() - started;
    if (now <= target) return { rss: now, ms, met: true };
    if (ms >= timeoutMs) return { rss: now, ms, met: false };
    await sleep(intervalMs);
  }
}
