import createError from '@fastify/error';
import { UPLOAD_TYPES_TEXT } from './datasets/media-types.js';

/**
 * Every error rowpool answers with. Fastify serialises them as `{statusCode, code, error, message}`;
 * the messages say what was wrong and what is accepted, since the caller is often a person with curl.
 */
export const DatasetNotFound = createError<[string]>(
  'ROWPOOL_DATASET_NOT_FOUND',
  'dataset %s not found',
  404,
);
export const JobNotFound = createError<[string]>('ROWPOOL_JOB_NOT_FOUND', 'job %s not found', 404);
export const InvalidNpy = createError<[string]>('ROWPOOL_INVALID_NPY', 'invalid .npy file: %s', 400);
export const UnsupportedDtype = createError<[string, string]>(
  'ROWPOOL_UNSUPPORTED_DTYPE',
  'unsupported dtype %s; supported dtypes are %s',
  422,
);
export const InvalidDatasetRequest = createError<[string]>('ROWPOOL_INVALID_DATASET', '%s', 400);
export const BodySizeMismatch = createError<[string]>('ROWPOOL_BODY_SIZE_MISMATCH', '%s', 400);
export const InsufficientMemory = createError<[string, number, number, number]>(
  'ROWPOOL_INSUFFICIENT_MEMORY',
  '%s needs %d bytes but only %d of the %d bytes of ROWPOOL_MEMORY_LIMIT are free',
  413,
);
export const BodyTooLarge = createError<[number]>(
  'ROWPOOL_BODY_TOO_LARGE',
  'the request body is larger than %d bytes; upload large datasets as .npy or raw bytes',
  413,
);
export const UnsupportedMediaType = createError<[string]>(
  'ROWPOOL_UNSUPPORTED_MEDIA_TYPE',
  `unsupported content type %s; send ${UPLOAD_TYPES_TEXT}`,
  415,
);
export const RequestTimeout = createError<[string]>('ROWPOOL_REQUEST_TIMEOUT', '%s', 408);
export const JsonOnly = createError<[string]>(
  'ROWPOOL_UNSUPPORTED_MEDIA_TYPE',
  'unsupported content type %s; this route takes application/json',
  415,
);
export const KernelNotFound = createError<[string]>('ROWPOOL_KERNEL_NOT_FOUND', 'kernel %s not found', 404);
export const KernelTooLarge = createError<[number]>(
  'ROWPOOL_KERNEL_TOO_LARGE',
  'the module is larger than %d bytes (ROWPOOL_KERNEL_MAX_BYTES)',
  413,
);
export const WasmOnly = createError<[string]>(
  'ROWPOOL_UNSUPPORTED_MEDIA_TYPE',
  'unsupported content type %s; send the compiled module with Content-Type: application/wasm',
  415,
);
export const InvalidJob = createError<[string]>('ROWPOOL_INVALID_JOB', '%s', 400);
export const JobNotSucceeded = createError<[string, string]>(
  'ROWPOOL_JOB_NOT_SUCCEEDED',
  'job %s is %s; its result is available once it has succeeded',
  409,
);
export const ServiceUnavailable = createError<[string]>('ROWPOOL_UNAVAILABLE', '%s', 503);
export const Unauthorized = createError('ROWPOOL_UNAUTHORIZED', 'missing or invalid bearer token', 401);
export const NotAcceptable = createError(
  'ROWPOOL_NOT_ACCEPTABLE',
  'results are served as application/json, application/x-npy or text/csv; set Accept to one of them',
  406,
);
