import { setTimeout as sleep } from 'node:timers/promises';
import createClient from 'openapi-fetch';
import { errorFrom, RowpoolTimeoutError } from './errors.js';
import { type JobEvent, jobEvents } from './events.js';
import { readNpy } from './npy.js';
import type { paths } from './openapi.js';
import { parseCsvResult, parseJsonResult, parseNpyResult } from './results.js';
import type {
  Dataset,
  DType,
  Job,
  JobFilter,
  JobPage,
  JobRequest,
  JobResult,
  NdArray,
  Progress,
  ResultFormat,
} from './types.js';
import { bytesBody, counted, fileBody, type UploadBody, type UploadProgress } from './upload-body.js';

export interface ClientOptions {
  /** The server's base URL; default http://127.0.0.1:3000. */
  readonly url?: string;
  /** Sent as `Authorization: Bearer <token>` when the server has ROWPOOL_API_TOKEN set. */
  readonly token?: string;
}

export interface UploadOptions {
  readonly name?: string;
  /** The element type of raw bytes; a typed array's own type when left out. */
  readonly dtype?: DType;
  /** The shape of raw bytes; `[length]` when left out. */
  readonly shape?: readonly number[];
  readonly onProgress?: UploadProgress;
}

export interface WaitOptions {
  /** Give up (with RowpoolTimeoutError) after this long; the job goes on. Default: no limit. */
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: Progress) => void;
  readonly signal?: AbortSignal;
}

const DTYPE_OF = new Map<unknown, DType>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Int16Array, 'int16'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Uint8Array, 'uint8'],
  [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'],
  [BigUint64Array, 'uint64'],
]);

/** How long `wait` pauses before it opens a job's event stream again. */
const RECONNECT_MS = 250;

const ACCEPT: Record<ResultFormat, string> = {
  npy: 'application/x-npy',
  json: 'application/json',
  csv: 'text/csv',
};

/** The outcome openapi-fetch gives for every call. */
interface Outcome<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

function unwrap<T>({ data, error, response }: Outcome<T>): T {
  if (!response.ok) throw errorFrom(response.status, error);
  return data as T;
}

/** A typed client for one rowpool server. Every failed request throws a RowpoolError. */
export class RowpoolClient {
  readonly url: string;
  private readonly http;

  constructor(options: ClientOptions = {}) {
    this.url = options.url ?? 'http://127.0.0.1:3000';
    this.http = createClient<paths>({
      baseUrl: this.url,
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    });
  }

  /**
   * Uploads an array. A string is the path of an .npy file, streamed from disk. A typed array (or
   * Buffer) is sent as raw bytes with its dtype and shape; a Uint8Array given neither is taken to
   * hold a whole .npy file.
   */
  async upload(source: string | ArrayBufferView, options: UploadOptions = {}): Promise<Dataset> {
    const query: { name?: string; dtype?: string; shape?: string } = {};
    if (options.name !== undefined) query.name = options.name;
    let body: UploadBody;
    let type = 'application/x-npy';
    if (typeof source === 'string') {
      body = await fileBody(source);
    } else {
      const bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
      body = bytesBody(bytes);
      const npy = source instanceof Uint8Array && options.dtype === undefined && options.shape === undefined;
      if (!npy) {
        const dtype = options.dtype ?? DTYPE_OF.get(source.constructor);
        if (dtype === undefined) throw new TypeError('say the dtype of these bytes with options.dtype');
        const count = 'length' in source ? Number(source.length) : source.byteLength;
        type = 'application/octet-stream';
        query.dtype = dtype;
        query.shape = (options.shape ?? [count]).join(',');
      }
    }
    const stream = options.onProgress === undefined ? body.stream : counted(body, options.onProgress);
    return unwrap(
      await this.http.POST('/v1/datasets', {
        params: { query },
        // The schema types a binary body as a string; the stream goes out as it is, unbuffered.
        body: stream as unknown as string,
        bodySerializer: (value: unknown) => value as string,
        headers: { 'content-type': type, 'content-length': String(body.length) },
        duplex: 'half',
      }),
    );
  }

  /** Every dataset, or those with this name. */
  async datasets(name?: string): Promise<Dataset[]> {
    const { datasets } = unwrap(await this.http.GET('/v1/datasets'));
    return name === undefined ? datasets : datasets.filter((dataset) => dataset.name === name);
  }

  async dataset(id: string): Promise<Dataset> {
    return unwrap(await this.http.GET('/v1/datasets/{id}', { params: { path: { id } } }));
  }

  /** Deletes the dataset; its running jobs are cancelled and its memory released. */
  async deleteDataset(id: string): Promise<void> {
    unwrap(await this.http.DELETE('/v1/datasets/{id}', { params: { path: { id } } }));
  }

  /** The dataset as .npy bytes, or with `{ parse: true }` as its dtype, shape and a typed array. */
  download(id: string): Promise<Uint8Array>;
  download(id: string, options: { parse: true }): Promise<NdArray>;
  async download(id: string, options?: { parse: true }): Promise<Uint8Array | NdArray> {
    const outcome = await this.http.GET('/v1/datasets/{id}/data', {
      params: { path: { id } },
      parseAs: 'arrayBuffer',
    });
    const bytes = new Uint8Array(unwrap(outcome) as ArrayBuffer);
    return options?.parse ? readNpy(bytes) : bytes;
  }

  /** Starts a job; with `waitSeconds` (at most 60) the server holds the answer until it ends. */
  async submit(datasetId: string, request: JobRequest, options: { waitSeconds?: number } = {}): Promise<Job> {
    return unwrap(
      await this.http.POST('/v1/datasets/{id}/jobs', {
        params: {
          path: { id: datasetId },
          query: options.waitSeconds === undefined ? {} : { wait: options.waitSeconds },
        },
        body: request,
      }),
    );
  }

  async job(id: string): Promise<Job> {
    return unwrap(await this.http.GET('/v1/jobs/{id}', { params: { path: { id } } }));
  }

  /** One page of jobs, newest first; pass `nextCursor` back as `cursor` for the next. */
  async jobs(filter: JobFilter = {}): Promise<JobPage> {
    return unwrap(await this.http.GET('/v1/jobs', { params: { query: filter } }));
  }

  /** Every job that matches, page after page. */
  async *allJobs(filter: Omit<JobFilter, 'cursor'> = {}): AsyncGenerator<Job> {
    let cursor: string | undefined;
    do {
      const page = await this.jobs(cursor === undefined ? filter : { ...filter, cursor });
      yield* page.jobs;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** The job's events as the server sends them; the stream ends after the end event. */
  async *events(jobId: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    const { error, response } = await this.http.GET('/v1/jobs/{id}/events', {
      params: { path: { id: jobId } },
      headers: { accept: 'text/event-stream' },
      parseAs: 'stream',
      ...(signal === undefined ? {} : { signal }),
    });
    if (!response.ok) throw errorFrom(response.status, error);
    if (response.body === null) return;
    yield* jobEvents(response.body);
  }

  /**
   * Waits for the job to end, following its event stream, and returns it as it ended (succeeded,
   * failed or cancelled). A stream that closes early (a server restarting behind a proxy) is
   * opened again.
   */
  async wait(jobId: string, options: WaitOptions = {}): Promise<Job> {
    const signals = [
      options.signal,
      options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
    ];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    try {
      for (;;) {
        for await (const event of this.events(jobId, signal)) {
          if (event.type === 'end') return event.job;
          options.onProgress?.(event.progress);
        }
        // Not at once: a server that is shutting down ends streams until it stops listening.
        await sleep(RECONNECT_MS, undefined, { signal });
      }
    } catch (error) {
      if (signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError') {
        throw new RowpoolTimeoutError(jobId, options.timeoutMs!);
      }
      throw error;
    }
  }

  /** Cancels the job, keeping its record as cancelled; a job that has ended is left as it is. */
  async cancel(jobId: string): Promise<Job> {
    return unwrap(await this.http.POST('/v1/jobs/{id}/cancel', { params: { path: { id: jobId } } }));
  }

  /** The result's bytes as the server sends them in this format. */
  async resultBytes(jobId: string, format: ResultFormat = 'npy'): Promise<Uint8Array> {
    const outcome = await this.http.GET('/v1/jobs/{id}/result', {
      params: { path: { id: jobId }, query: { format } },
      headers: { accept: ACCEPT[format] },
      parseAs: 'arrayBuffer',
    });
    return new Uint8Array(unwrap(outcome) as ArrayBuffer);
  }

  /** The result as values: a Float64Array or BigInt64Array, or a top-k's indices and values. */
  async result(jobId: string, format: ResultFormat = 'npy'): Promise<JobResult> {
    const bytes = await this.resultBytes(jobId, format);
    if (format === 'npy') return parseNpyResult(bytes);
    const text = new TextDecoder().decode(bytes);
    return format === 'csv' ? parseCsvResult(text) : parseJsonResult(JSON.parse(text));
  }

  /** Cancels the job if it runs, frees its result and forgets it. */
  async deleteJob(jobId: string): Promise<void> {
    unwrap(await this.http.DELETE('/v1/jobs/{id}', { params: { path: { id: jobId } } }));
  }
}
