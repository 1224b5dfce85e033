import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The least an ingest can do, served from the same process and thread as rowpool so it pays the same
 * loopback and page-fault costs: `/copy` copies the body into a fresh SharedArrayBuffer of the
 * declared length and drops it, `/discard` only reads the body.
 */
export class BareServer {
  readonly #server = http.createServer((request, response) => {
    void this.#handle(request, response);
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const length = Number(request.headers['content-length']);
    const target = request.url === '/copy' ? new Uint8Array(new SharedArrayBuffer(length)) : undefined;
    let received = 0;
    for await (const part of request) {
      const bytes = part as Buffer;
      target?.set(bytes, received);
      received += bytes.length;
    }
    response.writeHead(received === length ? 201 : 400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ received }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
