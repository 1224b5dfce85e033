import { once } from 'node:events';
import http from 'node:http';

/** Every request is bounded: a stuck server fails the benchmark rather than hanging it. */
const TIMEOUT_MS = 120_000;

export interface Reply<T> {
  readonly status: number;
  readonly body: T;
  /** From just before the request is made until its response has been read. */
  readonly seconds: number;
}

async function readReply<T>(response: http.IncomingMessage, started: number): Promise<Reply<T>> {
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  const seconds = (performance.now() - started) / 1000;
  const text = Buffer.concat(parts).toString('utf8');
  const json = (response.headers['content-type'] ?? '').startsWith('application/json');
  return {
    status: response.statusCode ?? 0,
    body: (json && text !== '' ? JSON.parse(text) : text) as T,
    seconds,
  };
}

/** JSON requests to one server over a keep-alive connection, as a real client would make them. */
export class Client {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly port: number) {}

  /** `body` is sent as is when it is a string, so a large one can be serialised once and reused. */
  request<T>(method: string, path: string, body?: string | object): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.#agent,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => readReply<T>(response, started).then(resolve, reject),
      );
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request, but any status other than `expected` is an error naming the server's answer. */
  async expect<T>(expected: number, method: string, path: string, body?: string | object): Promise<Reply<T>> {
    const reply = await this.request<T>(method, path, body);
    if (reply.status !== expected) {
      throw new Error(
        `${method} ${path}: expected ${expected}, got ${reply.status} ${JSON.stringify(reply.body)}`,
      );
    }
    return reply;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Streams `head` and then `dataBytes` of chunks on a connection of its own, writing the next chunk
 * only when the socket has taken the last, so the client never holds more than the chunks it reuses.
 */
export async function streamUpload<T>(
  port: number,
  path: string,
  contentType: string,
  head: Uint8Array,
  dataBytes: number,
  chunk: (index: number) => Uint8Array,
): Promise<Reply<T>> {
  const started = performance.now();
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path,
    agent: false,
    headers: { 'content-type': contentType, 'content-length': head.length + dataBytes },
  });
  req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`upload to ${path} timed out`)));
  // The server may answer (an error) before the body is all sent; then there is no point writing on.
  let answered = false;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      answered = true;
      resolve(res);
    });
    req.once('error', reject);
  });
  // Awaited below; this only keeps an early failure from counting as unhandled meanwhile.
  response.catch(() => {});
  if (head.length > 0) req.write(head);
  let sent = 0;
  for (let i = 0; sent < dataBytes && !answered; i++) {
    const piece = chunk(i);
    const bytes = piece.subarray(0, Math.min(piece.length, dataBytes - sent));
    sent += bytes.length;
    if (!req.write(bytes)) await Promise.race([once(req, 'drain'), response]);
  }
  req.end();
  return readReply<T>(await response, started);
}
