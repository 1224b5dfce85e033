import { ServiceUnavailable } from '../errors.js';

/**
 * The uploads whose bodies are still streaming. At shutdown they get the grace period to finish;
 * those still streaming at its end are aborted, which ends them with 503 and releases their memory.
 */
export class InFlightUploads {
  readonly #controllers = new Set<AbortController>();
  #idle: (() => void) | undefined;

  get count(): number {
    return this.#controllers.size;
  }

  /** Registers an upload; call `end` when its body has been read (or has failed). */
  begin(): { signal: AbortSignal; end: () => void } {
    const controller = new AbortController();
    this.#controllers.add(controller);
    return {
      signal: controller.signal,
      end: () => {
        this.#controllers.delete(controller);
        if (this.#controllers.size === 0) this.#idle?.();
      },
    };
  }

  /** Resolves when no upload is streaming, aborting those still streaming after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    if (this.#controllers.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
      timer = setTimeout(resolve, graceMs);
    });
    clearTimeout(timer);
    this.#idle = undefined;
    const reason = new ServiceUnavailable(
      'rowpool is shutting down and the upload did not finish within ROWPOOL_SHUTDOWN_GRACE; send it again later',
    );
    for (const controller of this.#controllers) controller.abort(reason);
  }
}
