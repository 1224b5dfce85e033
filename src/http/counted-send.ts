import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Yielder } from '../event-loop.js';
import type { Reservation } from '../memory.js';

/** How often a download's progress is looked at. */
const CHECK_MS = 1000;

/**
 * Sends a body made of views into shared memory, holding `reservation` until the response has ended
 * (sent, failed or cut off), so memory a download still reads counts in the budget even after the
 * dataset or result behind it was deleted. Chunks are pulled one at a time as the socket drains, with
 * a turn of the event loop every few ms of making and writing them so other requests are answered; a
 * reader that takes nothing for `idleSeconds` is cut off, which frees the bytes it held.
 * The caller sets the content type and length; the reply is sent from here.
 */
export function sendCounted(
  reply: FastifyReply,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  reservation: Reservation,
  idleSeconds: number,
): FastifyReply {
  const source =
    Symbol.asyncIterator in chunks
      ? chunks[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  let lastProgress = Date.now();
  let pushed = 0;
  let taken = 0;
  let watchdog: NodeJS.Timeout | undefined;
  const yielder = new Yielder();
  const stream = new Readable({
    // One chunk at a time: a chunk is only pulled once the socket has taken the one before.
    highWaterMark: 1,
    async read() {
      lastProgress = Date.now();
      try {
        await yielder.maybeYield();
        const next = await source.next();
        if (!next.done) pushed += next.value.byteLength;
        this.push(next.done ? null : next.value);
        // Time spent making the chunk (formatting a result's text) is the server's, not the reader's.
        lastProgress = Date.now();
      } catch (err) {
        this.destroy(err as Error);
      }
    },
  });
  const idleMs = idleSeconds * 1000;
  const check = () => {
    // Bytes the kernel has accepted: what was pushed less what still waits in Node's buffers
    // (a response's writableLength includes its socket's).
    const nowTaken = pushed - stream.readableLength - reply.raw.writableLength;
    if (nowTaken > taken) {
      taken = nowTaken;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress >= idleMs) {
      reply.log.info(
        { idleSeconds },
        'download cut off: the client took nothing for ROWPOOL_SEND_IDLE_TIMEOUT',
      );
      // Destroying the response ends the stream too (Fastify's end-of-stream handling), releasing below.
      reply.raw.destroy();
      return;
    }
    watchdog = setTimeout(check, Math.min(CHECK_MS, Math.max(10, lastProgress + idleMs - Date.now())));
  };
  watchdog = setTimeout(check, Math.min(CHECK_MS, idleMs));
  const done = () => {
    clearTimeout(watchdog);
    reservation.release();
  };
  stream.once('close', done);
  reply.raw.once('close', done);
  return reply.send(stream);
}
