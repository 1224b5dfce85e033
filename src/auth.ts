import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Unauthorized } from './errors.js';

/** Hashing first makes the comparison constant-time whatever the lengths of the two tokens. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), expected);
}

/**
 * An onRequest hook: `/v1` routes need ROWPOOL_API_TOKEN and `/metrics` needs ROWPOOL_METRICS_TOKEN,
 * each when set. It runs before any body is read, so nobody without the token can make the server
 * take in an upload. Health checks and the API description stay open.
 */
export function bearerAuth(apiToken: string | undefined, metricsToken: string | undefined) {
  const api = apiToken === undefined ? undefined : digest(apiToken);
  const metrics = metricsToken === undefined ? undefined : digest(metricsToken);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The matched route's template, not the raw URL, so no spelling of a path slips past.
    const route = request.routeOptions.url ?? '';
    const expected = route.startsWith('/v1/') ? api : route === '/metrics' ? metrics : undefined;
    if (expected === undefined || bearerMatches(request.headers.authorization, expected)) return;
    reply.header('www-authenticate', 'Bearer');
    throw new Unauthorized();
  };
}
