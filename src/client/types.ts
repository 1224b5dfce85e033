import type { components, operations } from './openapi.js';

/** The client's public types, taken from the generated OpenAPI types so they follow the server. */

export type Dataset = components['schemas']['Dataset'];
export type Job = components['schemas']['Job'];
export type DType = Dataset['dtype'];
export type JobStatus = Job['status'];
export type Op = Job['op'];
export type JobRequest = NonNullable<
  operations['postDatasetsByIdJobs']['requestBody']
>['content']['application/json'];
export type DatasetList = operations['getDatasets']['responses'][200]['content']['application/json'];
export type JobFilter = NonNullable<operations['getJobs']['parameters']['query']>;
export type JobPage = operations['getJobs']['responses'][200]['content']['application/json'];
export type ResultFormat = 'npy' | 'json' | 'csv';

export interface Progress {
  readonly rowsDone: number;
  readonly rowsTotal: number;
}

/** A typed array for every dtype; float16 is widened to float32, which holds each value exactly. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** An array as an .npy file holds it: C order, `data.length` equals the product of `shape`. */
export interface NdArray {
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: TypedArray;
}

/** A top-k job's result: the best rows' indices, best first, and their values. */
export interface TopK {
  readonly indices: number[];
  readonly values: Float64Array;
}

/** A job's result: one value per row (int64 for argmin, argmax, count_nonzero), or a top-k. */
export type JobResult = Float64Array | BigInt64Array | TopK;
