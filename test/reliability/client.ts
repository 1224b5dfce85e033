import http from 'node:http';

/** A small client for the reliability tests: plain fetch on loopback, answers as JSON. */
export function client(port: number) {
  const base = `http://127.0.0.1:${port}`;
  async function call(method: string, path: string, body?: string | Uint8Array, type?: string) {
    const res = await fetch(base + path, {
      method,
      body,
      headers: type === undefined ? {} : { 'content-type': type },
    });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 && text[0] === '{' ? JSON.parse(text) : text };
  }
  return {
    call,
    /** Uploads raw little-endian bytes; answers the dataset's id. */
    async uploadRaw(values: ArrayBufferView, dtype: string, shape: readonly number[]): Promise<string> {
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const res = await call(
        'POST',
        `/v1/datasets?dtype=${dtype}&shape=${shape.join(',')}`,
        bytes,
        'application/octet-stream',
      );
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    },
    /** Submits a job and waits up to `wait` seconds for it; answers the job as the API shows it. */
    async job(datasetId: string, request: object, wait = 60) {
      const res = await call(
        'POST',
        `/v1/datasets/${datasetId}/jobs?wait=${wait}`,
        JSON.stringify(request),
        'application/json',
      );
      if (res.status !== 200 && res.status !== 202)
        throw new Error(`job answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as { id: string; status: string; error?: { message: string } };
    },
  };
}

/**
 * Reads a result download a chunk at a time, as a client that keeps nothing would, and picks out the
 * values at `at` positions: text values split by `separator` after `prefix`, or `.npy` float64s after
 * the header. Answers the values found, how many values there were and the bytes read.
 */
export function sampleResult(
  port: number,
  path: string,
  format: 'json' | 'csv' | 'npy',
  at: readonly number[],
): Promise<{ status: number; values: Map<number, number>; count: number; bytes: number }> {
  const wanted = new Set(at);
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        const values = new Map<number, number>();
        let bytes = 0;
        let count = 0;
        let carry = '';
        let started = format === 'csv';
        let header: Buffer | null = format === 'npy' ? Buffer.alloc(0) : null;
        let tail = Buffer.alloc(0);
        const text = (s: string, last: boolean) => {
          carry += s;
          if (!started) {
            const open = carry.indexOf('"data":[');
            if (open < 0) return;
            carry = carry.slice(open + 8);
            started = true;
          }
          const parts = carry.split(format === 'csv' ? '\n' : ',');
          carry = last ? '' : parts.pop()!;
          for (const part of parts) {
            if (part === '' && format === 'csv') continue;
            if (wanted.has(count)) values.set(count, Number(part.replace(/]}$/, '')));
            count++;
          }
        };
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (format !== 'npy') return text(chunk.toString('latin1'), false);
          let data = chunk;
          if (header !== null) {
            header = Buffer.concat([header, data]);
            if (header.length < 10) return;
            const size = 10 + header.readUInt16LE(8);
            if (header.length < size) return;
            data = header.subarray(size);
            header = null;
          }
          data = Buffer.concat([tail, data]);
          const whole = data.length - (data.length % 8);
          for (let i = 0; i < whole; i += 8, count++) {
            if (wanted.has(count)) values.set(count, data.readDoubleLE(i));
          }
          tail = Buffer.from(data.subarray(whole));
        });
        res.on('end', () => {
          if (format !== 'npy') text('', true);
          resolve({ status: res.statusCode ?? 0, values, count, bytes });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

export const MiB = 2 ** 20;
