import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Called as an upload's bytes are handed to the socket: bytes sent so far, and the total. */
export type UploadProgress = (bytesSent: number, bytesTotal: number) => void;

export interface UploadBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly length: number;
}

/** Pieces of an in-memory array are sent this big, so progress moves while a large array goes out. */
const PIECE_BYTES = 1 << 20;

/** A file streamed from disk: it is never read into memory whole. */
export async function fileBody(path: string): Promise<UploadBody> {
  const { size } = await stat(path);
  const stream = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
  return { stream, length: size };
}

/** The bytes of an in-memory view, sent in pieces that are views of it, never copies. */
export function bytesBody(bytes: Uint8Array): UploadBody {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + PIECE_BYTES));
      at += PIECE_BYTES;
    },
  });
  return { stream, length: bytes.length };
}

/** The body's stream, reporting to `onProgress` as each piece is taken by the connection. */
export function counted(
  { stream, length }: UploadBody,
  onProgress: UploadProgress,
): ReadableStream<Uint8Array> {
  let sent = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        onProgress(sent, length);
      },
    }),
  );
}
