import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BodyTooLarge, JsonOnly, UnsupportedMediaType, WasmOnly } from './errors.js';

/**
 * The one error handler. Fastify's own refusals are turned into rowpool's messages; 4xx answers carry
 * the real message, other 5xx a generic one (the details and stack go to the log at error, with the
 * request's id).
 */
export function errorHandler(textBodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let err = error;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'] ?? '(none)';
      const route = request.routeOptions.url;
      err =
        route === '/v1/datasets'
          ? new UnsupportedMediaType(type)
          : route === '/v1/kernels'
            ? new WasmOnly(type)
            : new JsonOnly(type);
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      err = new BodyTooLarge(textBodyLimit);
    }
    const status = err.statusCode ?? 500;
    // A request refused before its body was read: close the connection rather than read the rest.
    if (!request.raw.complete) reply.header('connection', 'close');
    if (clientWentAway(request)) {
      // Nobody is left to answer: nothing is wrong with the server, and the status is never seen.
      request.log.info({ message: err.message }, 'client disconnected');
      return reply.code(status).send(err);
    }
    if (status >= 500 && status !== 503) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({
        statusCode: status,
        error: 'Internal Server Error',
        message: 'an internal error occurred; see the server log',
      });
    }
    request.log.info({ code: err.code, message: err.message }, 'request refused');
    return reply.code(status).send(err);
  };
}

/**
 * The client closed its side before the response: its request was aborted or its socket is gone.
 * A request stream that is merely destroyed (fully read, or dropped by a parser) is not that.
 */
function clientWentAway(request: FastifyRequest): boolean {
  const socket = request.raw.socket;
  return !request.raw.complete && (socket === null || socket.destroyed);
}
