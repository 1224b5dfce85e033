export { type ClientOptions, RowpoolClient, type UploadOptions, type WaitOptions } from './client.js';
export { RowpoolError, RowpoolTimeoutError } from './errors.js';
export type { JobEvent } from './events.js';
export { readNpy } from './npy.js';
export type * from './types.js';
export type { UploadProgress } from './upload-body.js';
