/**
 * The content types uploads are accepted in, by format, in the order the 415 message lists them.
 * A leaf module, so that errors.ts can name them without importing the readers; formats.ts pairs
 * each with its reader and its OpenAPI entry.
 */
export const NPY_MEDIA_TYPE = 'application/x-npy';

export const UPLOAD_MEDIA_TYPES = {
  npy: [NPY_MEDIA_TYPE],
  octetStream: ['application/octet-stream'],
  multipart: ['multipart/form-data'],
  csv: ['text/csv', 'application/csv'],
  json: ['application/json'],
} as const;

/** `a, b, c or d`: the first content type of each format. */
export const UPLOAD_TYPES_TEXT = (() => {
  const names = Object.values(UPLOAD_MEDIA_TYPES).map((types) => types[0]);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
})();
