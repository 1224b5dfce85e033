/** A request the server refused: its status and the `code` and `message` of its JSON error body. */
export class RowpoolError extends Error {
  override readonly name = 'RowpoolError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `wait` ran out of time before the job ended; the job itself goes on. */
export class RowpoolTimeoutError extends Error {
  override readonly name = 'RowpoolTimeoutError';

  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} did not end within ${timeoutMs} ms`);
  }
}

/**
 * The error a failed response stands for. `body` is what openapi-fetch parsed (JSON when it could);
 * a body that is not rowpool's error JSON (a proxy's page, say) still gives the status.
 */
export function errorFrom(status: number, body: unknown): RowpoolError {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const { code, message } = body as { code?: unknown; message: unknown };
    return new RowpoolError(status, typeof code === 'string' ? code : '', String(message));
  }
  const text = typeof body === 'string' ? body.trim() : '';
  return new RowpoolError(status, '', text === '' ? `the server answered ${status}` : text);
}
