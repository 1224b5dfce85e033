import { BodyTooLarge, RequestTimeout } from '../errors.js';

/** When an upload's body is too slow to keep: see ROWPOOL_UPLOAD_IDLE_TIMEOUT and ROWPOOL_UPLOAD_MIN_RATE. */
export interface UploadPace {
  /** The longest the body may send nothing. */
  readonly idleMs: number;
  /** The slowest average rate accepted over any window of `windowMs`; 0 turns the check off. */
  readonly minBytesPerSecond: number;
  /** Time from the start before the rate is judged at all. */
  readonly graceMs: number;
  readonly windowMs: number;
}

export interface GuardOptions extends UploadPace {
  /** More bytes than this end the upload with 413. */
  readonly maxBytes?: number;
  /** Aborting ends the upload with the signal's reason (a 503 at shutdown). */
  readonly signal?: AbortSignal;
}

/** How often the rate is looked at once it is judged. */
const RATE_CHECK_MS = 1000;

/**
 * The body, chunk by chunk, ended with an error (408, 413 or the abort reason) the moment it stalls,
 * drags or grows too large: the reader's own cleanup then releases whatever it reserved. The source
 * is never destroyed here, so the error response can still be sent on its socket.
 */
export async function* guardBody(
  body: AsyncIterable<Uint8Array>,
  options: GuardOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunks = body[Symbol.asyncIterator]();
  const pace = new PaceMeter(options, Date.now());
  for (;;) {
    options.signal?.throwIfAborted();
    const next = chunks.next();
    const result = await pace.wait(next, options.signal);
    if (result.done) return;
    pace.received(result.value.length, Date.now());
    if (options.maxBytes !== undefined && pace.total > options.maxBytes)
      throw new BodyTooLarge(options.maxBytes);
    yield result.value;
  }
}

/** The bytes received over time, and the verdict on them. */
export class PaceMeter {
  readonly #pace: UploadPace;
  readonly #start: number;
  #last: number;
  /** [time, bytes received by then], at most one a second, oldest first. */
  #samples: Array<[number, number]>;
  total = 0;

  constructor(pace: UploadPace, now: number) {
    this.#pace = pace;
    this.#start = now;
    this.#last = now;
    this.#samples = [[now, 0]];
  }

  received(bytes: number, now: number): void {
    this.total += bytes;
    this.#last = now;
    const newest = this.#samples[this.#samples.length - 1];
    if (now - newest[0] >= 1000) this.#samples.push([now, this.total]);
    const keepFrom = now - this.#pace.windowMs - 2000;
    while (this.#samples.length > 2 && this.#samples[1][0] <= keepFrom) this.#samples.shift();
  }

  /** The 408 due at `now`, if any. */
  verdict(now: number): Error | undefined {
    const { idleMs, minBytesPerSecond, graceMs, windowMs } = this.#pace;
    if (now - this.#last >= idleMs) {
      return new RequestTimeout(
        `the upload sent nothing for ${idleMs / 1000} s (ROWPOOL_UPLOAD_IDLE_TIMEOUT); its memory is released`,
      );
    }
    if (minBytesPerSecond > 0 && now - this.#start >= graceMs + windowMs) {
      const sent = this.total - this.#totalAt(now - windowMs);
      if (sent < (minBytesPerSecond * windowMs) / 1000) {
        return new RequestTimeout(
          `the upload sent ${sent} bytes in the last ${windowMs / 1000} s, under the ${minBytesPerSecond} bytes per second of ROWPOOL_UPLOAD_MIN_RATE; its memory is released`,
        );
      }
    }
    return undefined;
  }

  /** When `verdict` should next be asked. */
  nextCheck(now: number): number {
    const idleAt = this.#last + this.#pace.idleMs;
    const judgedFrom = this.#start + this.#pace.graceMs + this.#pace.windowMs;
    const rateAt = this.#pace.minBytesPerSecond > 0 ? Math.max(judgedFrom, now + RATE_CHECK_MS) : idleAt;
    return Math.min(idleAt, rateAt);
  }

  /** Waits for `next`, failing with the verdict or the signal's reason should either come first. */
  async wait<T>(next: Promise<T>, signal?: AbortSignal): Promise<T> {
    // Should the verdict come first, the read still pending must not become an unhandled rejection.
    next.catch(() => {});
    for (;;) {
      const now = Date.now();
      const verdict = this.verdict(now);
      if (verdict !== undefined) throw verdict;
      const outcome = await raceTimer(next, Math.max(1, this.nextCheck(now) - now), signal);
      if (outcome.settled) return outcome.value;
    }
  }

  #totalAt(time: number): number {
    let total = 0;
    for (const [at, bytes] of this.#samples) {
      if (at > time) break;
      total = bytes;
    }
    return total;
  }
}

async function raceTimer<T>(
  promise: Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise.then((value) => ({ settled: true as const, value })),
      new Promise<{ settled: false }>((resolve, reject) => {
        timer = setTimeout(() => resolve({ settled: false }), ms);
        if (signal !== undefined) {
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
