import { formatNpyHeader } from '../../src/datasets/npy.js';

/** An .npy file as NumPy would write it, with any type string and memory order. */
export function npyFile(descr: string, shape: readonly number[], data: Uint8Array, fortran = false): Buffer {
  const header = formatNpyHeader(descr, shape);
  const text = header.toString('latin1');
  const patched = fortran ? text.replace("'fortran_order': False", "'fortran_order': True ") : text;
  return Buffer.concat([Buffer.from(patched, 'latin1'), data]);
}

/** A hand-made header (any dict text), padded like NumPy's, for malformed-input tests. */
export function npyWithHeader(dict: string, data: Uint8Array = new Uint8Array(0), major = 1): Buffer {
  const preamble = major === 1 ? 10 : 12;
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const head = Buffer.alloc(total, 0x20);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) head.writeUInt16LE(total - preamble, 8);
  else head.writeUInt32LE(total - preamble, 8);
  head.write(dict, preamble, 'latin1');
  head[total - 1] = 0x0a;
  return Buffer.concat([head, data]);
}

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export type FormPart = { name: string; value: string } | { name: string; filename: string; content: Buffer };

/** A multipart/form-data body and its content type, as curl -F would send it. */
export function multipartBody(parts: readonly FormPart[]): { body: Buffer; contentType: string } {
  const boundary = '----rowpool-test-boundary';
  const pieces = parts.flatMap((part) =>
    'filename' in part
      ? [
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
          ),
          part.content,
          Buffer.from('\r\n'),
        ]
      : [
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`,
          ),
        ],
  );
  return {
    body: Buffer.concat([...pieces, Buffer.from(`--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
