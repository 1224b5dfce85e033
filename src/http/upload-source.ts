import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import {
  checkUploadQuery,
  type UploadFormat,
  type UploadQuery,
  type UploadSource,
  uploadFormatFor,
} from '../datasets/formats.js';
import { BodyTooLarge, UnsupportedMediaType } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import { guardBody, type UploadPace } from './upload-guard.js';

export interface UploadLimits {
  readonly budget: MemoryBudget;
  /** Bytes past which an upload is split into segments (shared-array.ts). */
  readonly segmentLimit: number;
  /** The largest CSV or JSON body. */
  readonly textBodyLimit: number;
  readonly uploadPace: UploadPace;
}

function contentLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/**
 * The upload's format, from its Content-Type, and its body guarded by the upload timeouts, as the
 * format reads it; a type no format reads, a query parameter it does not take or a text body over
 * its limit is refused before any byte is read.
 */
export function uploadSource(
  request: FastifyRequest,
  query: UploadQuery,
  signal: AbortSignal,
  limits: UploadLimits,
): { format: UploadFormat; source: UploadSource } {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const format = uploadFormatFor(type);
  if (format === undefined) throw new UnsupportedMediaType(type === '' ? '(none)' : type);
  checkUploadQuery(format, type, query);
  const length = contentLength(request);
  const maxBytes = format.text ? limits.textBodyLimit : undefined;
  if (maxBytes !== undefined && length !== undefined && length > maxBytes) throw new BodyTooLarge(maxBytes);
  const guard = (stream: Readable) => guardBody(stream, { ...limits.uploadPace, maxBytes, signal });
  const source: UploadSource = {
    body: guard(request.body as Readable),
    contentLength: length,
    query,
    budget: limits.budget,
    segmentLimit: limits.segmentLimit,
    parts: () => request.parts(),
    guard,
  };
  return { format, source };
}
