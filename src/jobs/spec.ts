import type { Dataset } from '../datasets/store.js';
import { InvalidJob } from '../errors.js';
import type { OpName } from './kernels/index.js';

export interface JobParams {
  ddof?: number;
  ord?: 1 | 2 | 'inf';
  q?: number;
  vector?: number[];
}

export interface JobRequest {
  op: OpName;
  params?: JobParams;
  rows?: { start?: number; end?: number };
  top?: { k: number; largest?: boolean };
}

/** A job request checked against its dataset, with every default filled in. */
export interface JobSpec {
  readonly op: OpName;
  /** The params as given, but for the vector, which is held once, in `vector`. */
  readonly params: Omit<JobParams, 'vector'>;
  readonly rows: { readonly start: number; readonly end: number };
  readonly top: { readonly k: number; readonly largest: boolean } | undefined;
  readonly ddof: number;
  readonly ord: number;
  readonly q: number;
  /** The query vector of dot, cosine and euclidean, in shared memory so every chunk reads the same copy. */
  readonly vector: Float64Array | null;
}

const PARAMS_OF: Record<OpName, readonly (keyof JobParams)[]> = {
  sum: [],
  mean: [],
  min: [],
  max: [],
  argmin: [],
  argmax: [],
  var: ['ddof'],
  std: ['ddof'],
  norm: ['ord'],
  count_nonzero: [],
  median: [],
  quantile: ['q'],
  dot: ['vector'],
  cosine: ['vector'],
  euclidean: ['vector'],
  strided_mean: [],
};

/** The reductions NumPy refuses on rows of length 0 ("zero-size array to reduction operation"). */
const NEEDS_NONEMPTY_ROWS = new Set<OpName>(['min', 'max', 'argmin', 'argmax', 'quantile']);

export function checkJob(request: JobRequest, dataset: Dataset): JobSpec {
  const { op } = request;
  const params = request.params ?? {};
  const allowed = PARAMS_OF[op];
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key as keyof JobParams)) {
      throw new InvalidJob(
        `unknown param "${key}" for op ${op}; ${allowed.length === 0 ? 'it takes no params' : `it takes ${allowed.join(', ')}`}`,
      );
    }
  }
  if (op === 'quantile' && params.q === undefined)
    throw new InvalidJob('op quantile needs params.q, a number in [0, 1]');
  if (allowed.includes('vector')) {
    if (params.vector === undefined) {
      throw new InvalidJob(
        `op ${op} needs params.vector, a list of ${dataset.rowLength} numbers (the row length)`,
      );
    }
    if (params.vector.length !== dataset.rowLength) {
      throw new InvalidJob(
        `params.vector has ${params.vector.length} numbers but the dataset's rows have ${dataset.rowLength}`,
      );
    }
  }
  if (params.vector?.some((v) => !Number.isFinite(v))) {
    throw new InvalidJob('params.vector must hold finite numbers (JSON has no NaN or infinity)');
  }
  const ord = params.ord ?? 2;
  if (dataset.rowLength === 0 && (NEEDS_NONEMPTY_ROWS.has(op) || (op === 'norm' && ord === 'inf'))) {
    throw new InvalidJob(
      `op ${op}${op === 'norm' ? ' with ord "inf"' : ''} is undefined on rows of length 0 (NumPy refuses it too)`,
    );
  }
  const start = request.rows?.start ?? 0;
  const end = request.rows?.end ?? dataset.rows;
  if (end > dataset.rows || start > dataset.rows) {
    throw new InvalidJob(`rows ${start}..${end} fall outside the dataset, which has ${dataset.rows} rows`);
  }
  if (start > end)
    throw new InvalidJob(`rows.start (${start}) is after rows.end (${end}); the range is end-exclusive`);
  const { vector, ...rest } = params;
  return {
    op,
    params: rest,
    rows: { start, end },
    top: request.top === undefined ? undefined : { k: request.top.k, largest: request.top.largest ?? true },
    // Any ddof at or past the row length gives the same answer (inf or NaN), so huge ones are capped.
    ddof: Math.min(params.ddof ?? 0, 2 ** 32),
    ord: ord === 'inf' ? Number.POSITIVE_INFINITY : ord,
    q: params.q ?? 0,
    vector: vector === undefined ? null : sharedFloat64(vector),
  };
}

function sharedFloat64(values: readonly number[]): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(values.length * 8));
  out.set(values);
  return out;
}
