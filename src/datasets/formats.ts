import type { Readable } from 'node:stream';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import type { ArraySink, StreamedArray } from './array-sink.js';
import { readCsvStream, streamCsv } from './csv-reader.js';
import { type DType, isDType, SUPPORTED_DTYPES_TEXT } from './dtypes.js';
import { readNpyStream, readRawStream, streamNpy, streamRaw } from './ingest.js';
import { readJsonStream, streamJson } from './json-reader.js';
import { NPY_MEDIA_TYPE, UPLOAD_MEDIA_TYPES } from './media-types.js';
import { readForm, readMultipart } from './multipart-reader.js';
import { startsWithMagic } from './npy.js';
import type { FilledArray } from './store.js';

export { NPY_MEDIA_TYPE } from './media-types.js';

/** The name a format is counted under in rowpool_ingested_bytes_total. */
export type IngestFormat = 'npy' | 'raw' | 'multipart' | 'csv' | 'json';

export interface UploadQuery {
  readonly dtype?: string;
  readonly shape?: string;
}

/** What a reader gets: the body (already guarded by the upload timeouts), and the request's facts. */
export interface UploadSource {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentLength: number | undefined;
  readonly query: UploadQuery;
  readonly budget: MemoryBudget;
  /** Bytes past which an array is split into segments (shared-array.ts). */
  readonly segmentLimit: number;
  /** Multipart only: the form's parts, files guarded like bodies. */
  readonly parts: () => AsyncIterable<MultipartFile | MultipartValue>;
  /** Wraps a stream (a form's file) in the same timeouts as the body. */
  readonly guard: (stream: Readable) => AsyncIterable<Uint8Array>;
}

export interface Uploaded {
  readonly filled: FilledArray;
  readonly format: IngestFormat;
  /** A name given in the body (JSON, multipart); the query's name applies otherwise. */
  readonly name?: string;
}

/** An upload handed to a sink as it arrived: what it said of its array once it ended. */
export interface Streamed extends StreamedArray {
  readonly format: IngestFormat;
  readonly name?: string;
}

export interface UploadFormat {
  readonly contentTypes: readonly string[];
  /** The query parameters the format reads besides `name`; any other one is refused, not ignored. */
  readonly queryParams: readonly (keyof UploadQuery)[];
  /** Text bodies are limited by ROWPOOL_TEXT_BODY_LIMIT; binary ones by their declared size. */
  readonly text: boolean;
  readonly read: (source: UploadSource) => Promise<Uploaded>;
  /** The same body handed to a sink as it arrives, never held whole (bar Fortran-order .npy). */
  readonly stream: (source: UploadSource, sink: ArraySink) => Promise<Streamed>;
  /** The OpenAPI media type object for each content type (JSON's schema comes from the route). */
  readonly media: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const BINARY = { type: 'string', format: 'binary' } as const;

/**
 * Every upload format: its content types, the reader that streams it into shared memory, and its
 * entry in the API description. The upload route, its 415 message and the OpenAPI request body
 * all read this table, so a format is added here and nowhere else.
 */
export const UPLOAD_FORMATS: readonly UploadFormat[] = [
  {
    contentTypes: UPLOAD_MEDIA_TYPES.npy,
    queryParams: [],
    text: false,
    read: async (s) => ({
      filled: await readNpyStream(s.body, s.budget, s.contentLength, s.segmentLimit),
      format: 'npy',
    }),
    stream: async (s, sink) => ({
      ...(await streamNpy(s.body, sink, s.budget, s.contentLength)),
      format: 'npy',
    }),
    media: {
      [NPY_MEDIA_TYPE]: {
        schema: {
          ...BINARY,
          description:
            'An .npy file: format 1.0, 2.0 or 3.0, either byte order, C or Fortran order. Stored little-endian in C order.',
        },
      },
    },
  },
  {
    contentTypes: UPLOAD_MEDIA_TYPES.octetStream,
    queryParams: ['dtype', 'shape'],
    text: false,
    read: readOctetStream,
    stream: streamOctetStream,
    media: {
      'application/octet-stream': {
        schema: {
          ...BINARY,
          description:
            'An .npy file, recognised by its \\x93NUMPY magic, or raw little-endian C-order bytes described by the dtype and shape query parameters.',
        },
      },
    },
  },
  {
    contentTypes: UPLOAD_MEDIA_TYPES.multipart,
    queryParams: [],
    text: false,
    read: async (s) => ({ ...(await readMultipart(s.parts(), s.guard, s.budget)), format: 'multipart' }),
    stream: async (s, sink) => {
      // The sink's owner cleans up after a failed upload, so a refused part has nothing to give back.
      const { file, name } = await readForm(
        s.parts(),
        s.guard,
        (body) => streamNpy(body, sink, s.budget),
        () => {},
      );
      return { ...file, name, format: 'multipart' };
    },
    media: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['file'],
          properties: {
            file: { ...BINARY, description: 'The .npy file' },
            // An empty example: Swagger UI fills form fields from the schema's sample, and would
            // otherwise send the word "string" as the dataset's name; it leaves empty fields out.
            name: { type: 'string', maxLength: 256, description: 'A label for the dataset', example: '' },
          },
          additionalProperties: false,
        },
      },
    },
  },
  {
    contentTypes: UPLOAD_MEDIA_TYPES.csv,
    queryParams: ['dtype'],
    text: true,
    read: async (s) => ({
      filled: await readCsvStream(s.body, s.budget, dtypeParam(s.query.dtype, 'float64'), s.segmentLimit),
      format: 'csv',
    }),
    stream: async (s, sink) => ({
      ...(await streamCsv(s.body, sink, dtypeParam(s.query.dtype, 'float64'))),
      format: 'csv',
    }),
    media: {
      'text/csv': {
        schema: {
          type: 'string',
          description:
            'One row per line, comma-separated. A first line that is not numeric holds column names and is skipped. Reads nan, inf, -inf, true and false. Stored as float64 unless the dtype query parameter names another type.',
        },
        example: 'a,b,c\n1,2,3\n4.5,nan,-inf\n',
      },
      'application/csv': { schema: { type: 'string', description: 'The same as text/csv' } },
    },
  },
  {
    contentTypes: UPLOAD_MEDIA_TYPES.json,
    queryParams: ['dtype'],
    text: true,
    read: async (s) => ({
      ...(await readJsonStream(
        s.body,
        s.budget,
        s.query.dtype === undefined ? undefined : dtypeParam(s.query.dtype),
      )),
      format: 'json',
    }),
    stream: async (s, sink) => ({
      ...(await streamJson(
        s.body,
        sink,
        s.budget,
        s.query.dtype === undefined ? undefined : dtypeParam(s.query.dtype),
      )),
      format: 'json',
    }),
    media: {},
  },
];

const BY_CONTENT_TYPE = new Map(UPLOAD_FORMATS.flatMap((f) => f.contentTypes.map((t) => [t, f] as const)));

/** Refuses a query parameter the format would not read, naming it, rather than ignoring it. */
export function checkUploadQuery(format: UploadFormat, contentType: string, query: UploadQuery): void {
  for (const key of ['dtype', 'shape'] as const) {
    if (query[key] !== undefined && !format.queryParams.includes(key)) {
      const takes =
        format.queryParams.length === 0 ? 'only name' : `name and ${format.queryParams.join(', ')}`;
      throw new InvalidDatasetRequest(
        `the ${key} query parameter does not apply to ${contentType} uploads, which take ${takes}${format.queryParams.length === 0 ? ' (an .npy file says its own dtype and shape)' : ''}`,
      );
    }
  }
}

/** The format for a content type (its essence, lower case), or undefined. */
export function uploadFormatFor(contentType: string): UploadFormat | undefined {
  return BY_CONTENT_TYPE.get(contentType);
}

/** The content types read as a stream by the upload route's own parser (multipart has a plugin). */
export const STREAMED_CONTENT_TYPES = UPLOAD_FORMATS.flatMap((f) => f.contentTypes).filter(
  (t) => t !== 'multipart/form-data',
);

/** The OpenAPI media entries of the formats whose schema is not the route's JSON body. */
export function uploadMediaEntries(): Record<string, Record<string, unknown>> {
  return Object.assign({}, ...UPLOAD_FORMATS.map((f) => f.media));
}

export function dtypeParam(name: string | undefined, fallback?: DType): DType {
  if (name === undefined) {
    if (fallback !== undefined) return fallback;
    throw new InvalidDatasetRequest(`the dtype query parameter is required; one of ${SUPPORTED_DTYPES_TEXT}`);
  }
  if (!isDType(name)) {
    throw new InvalidDatasetRequest(`unknown dtype "${name}"; supported dtypes are ${SUPPORTED_DTYPES_TEXT}`);
  }
  return name;
}

function shapeParam(text: string | undefined): number[] {
  if (text === undefined) {
    throw new InvalidDatasetRequest(
      'the shape query parameter is required with raw bytes, e.g. shape=1000,128',
    );
  }
  const dims = text.split(',').map((d) => d.trim());
  if (dims.some((d) => !/^\d+$/.test(d)) || dims.length === 0) {
    throw new InvalidDatasetRequest(
      `shape "${text}" must be comma-separated non-negative integers with at least one dimension, e.g. 1000,128`,
    );
  }
  const shape = dims.map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d)))
    throw new InvalidDatasetRequest(`shape "${text}" is too large`);
  return shape;
}

/** Raw bytes when the query gives a dtype or shape, else an .npy file recognised by its magic. */
async function readOctetStream(s: UploadSource): Promise<Uploaded> {
  const body = await octetBody(s);
  if (body.raw !== undefined) {
    const { dtype, shape } = body.raw;
    return {
      filled: await readRawStream(s.body, s.budget, dtype, shape, s.contentLength, s.segmentLimit),
      format: 'raw',
    };
  }
  return { filled: await readNpyStream(body.npy, s.budget, s.contentLength, s.segmentLimit), format: 'npy' };
}

async function streamOctetStream(s: UploadSource, sink: ArraySink): Promise<Streamed> {
  const body = await octetBody(s);
  if (body.raw !== undefined) {
    const { dtype, shape } = body.raw;
    return { ...(await streamRaw(s.body, sink, dtype, shape, s.contentLength)), format: 'raw' };
  }
  return { ...(await streamNpy(body.npy, sink, s.budget, s.contentLength)), format: 'npy' };
}

type OctetBody =
  | { readonly raw: { readonly dtype: DType; readonly shape: number[] }; readonly npy?: undefined }
  | { readonly raw?: undefined; readonly npy: AsyncIterable<Uint8Array> };

/** What an octet-stream body holds: raw bytes the query describes, or an .npy file. */
async function octetBody(s: UploadSource): Promise<OctetBody> {
  if (s.query.dtype !== undefined || s.query.shape !== undefined) {
    return { raw: { dtype: dtypeParam(s.query.dtype), shape: shapeParam(s.query.shape) } };
  }
  const [head, stream] = await peek(s.body);
  if (!startsWithMagic(head) && head.length >= 6) {
    throw new InvalidDatasetRequest(
      'an application/octet-stream body must be an .npy file (starting with \\x93NUMPY) or raw bytes with the dtype and shape query parameters',
    );
  }
  return { npy: stream };
}

/** Reads the first chunk of a stream and hands back a stream that still yields it. */
async function peek(stream: AsyncIterable<Uint8Array>): Promise<[Uint8Array, AsyncIterable<Uint8Array>]> {
  const chunks = stream[Symbol.asyncIterator]();
  const first = await chunks.next();
  const head: Uint8Array = first.done ? new Uint8Array(0) : first.value;
  return [
    head,
    {
      async *[Symbol.asyncIterator]() {
        if (head.length > 0) yield head;
        for (;;) {
          const next = await chunks.next();
          if (next.done) return;
          yield next.value;
        }
      },
    },
  ];
}
