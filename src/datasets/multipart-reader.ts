import type { Readable } from 'node:stream';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import { readNpyStream } from './ingest.js';
import type { FilledArray } from './store.js';
import { MAX_NAME_LENGTH } from './text-limits.js';

/** @fastify/multipart's errors for a form with more parts than an upload has. */
const FORM_LIMIT_CODES = new Set(['FST_FILES_LIMIT', 'FST_PARTS_LIMIT', 'FST_FIELDS_LIMIT']);

/** A form with one .npy in "file" and optionally a "name" of at most 256 characters. */
export async function readMultipart(
  parts: AsyncIterable<MultipartFile | MultipartValue>,
  guard: (stream: Readable) => AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
): Promise<{ filled: FilledArray; name: string | undefined }> {
  const { file, name } = await readForm(
    parts,
    guard,
    (body) => readNpyStream(body, budget),
    (filled) => filled.reservation.release(),
  );
  return { filled: file, name };
}

/**
 * The form's parts in order: its .npy file read by `readFile`, its name checked. What `readFile`
 * made is handed to `discard` when a later part is refused.
 */
export async function readForm<T>(
  parts: AsyncIterable<MultipartFile | MultipartValue>,
  guard: (stream: Readable) => AsyncIterable<Uint8Array>,
  readFile: (body: AsyncIterable<Uint8Array>) => Promise<T>,
  discard: (file: T) => void,
): Promise<{ file: T; name: string | undefined }> {
  let filled: T | undefined;
  let name: string | undefined;
  try {
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname !== 'name') {
          throw new InvalidDatasetRequest(
            `unexpected form field "${part.fieldname}"; send "file" and optionally "name"`,
          );
        }
        name = String(part.value);
        if (part.valueTruncated || name.length > MAX_NAME_LENGTH) {
          throw new InvalidDatasetRequest(
            `the form field "name" must NOT have more than ${MAX_NAME_LENGTH} characters`,
          );
        }
      } else if (part.fieldname !== 'file' || filled !== undefined) {
        throw new InvalidDatasetRequest(
          `unexpected file part "${part.fieldname}"; send one .npy file in the "file" field`,
        );
      } else {
        filled = await readFile(guard(part.file));
      }
    }
  } catch (err) {
    if (filled !== undefined) discard(filled);
    const { code, statusCode } = err as { code?: string; statusCode?: number };
    if (FORM_LIMIT_CODES.has(code ?? '')) {
      throw new InvalidDatasetRequest(
        'the form has too many parts; send one .npy file in "file" and optionally "name"',
      );
    }
    // The multipart parser's own errors (no boundary, a body cut short) carry no status: the form is bad.
    if (statusCode === undefined) {
      throw new InvalidDatasetRequest(`the multipart/form-data body is malformed: ${(err as Error).message}`);
    }
    throw err;
  }
  if (filled === undefined)
    throw new InvalidDatasetRequest('the form has no "file" part holding an .npy file');
  return { file: filled, name };
}
