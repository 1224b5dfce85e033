import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Ids a caller may choose: short, and safe to echo in a header and a log line. */
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The caller's X-Request-Id when it is at most 128 safe characters, else a fresh UUID. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}
