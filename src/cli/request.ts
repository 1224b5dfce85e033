import { readFile } from 'node:fs/promises';
import { type JobRequest, readNpy } from '../client/index.js';

/** Turns the `run` command's options into a job request. */

export interface RunOptions {
  readonly param?: string[];
  readonly vector?: string;
  readonly vectorFile?: string;
  readonly rows?: string;
  readonly top?: string;
  readonly largest?: boolean;
}

export class UsageError extends Error {}

/** A `k=v` value: JSON when it reads as JSON (numbers, true, lists), else the text itself (`inf`). */
function paramValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, not '${text}'`);
  return Number(text);
}

/** `a:b`, `a:` or `:b`, end-exclusive as in Python. */
function rowRange(text: string): NonNullable<JobRequest['rows']> {
  const match = /^(\d*):(\d*)$/.exec(text);
  if (match === null) throw new UsageError(`--rows takes start:end (either may be left out), not '${text}'`);
  const [, start, end] = match;
  return {
    ...(start === '' ? {} : { start: Number(start) }),
    ...(end === '' ? {} : { end: Number(end) }),
  };
}

async function vectorOf(options: RunOptions): Promise<number[] | undefined> {
  if (options.vector !== undefined && options.vectorFile !== undefined) {
    throw new UsageError('give --vector or --vector-file, not both');
  }
  if (options.vectorFile !== undefined) {
    const { data } = readNpy(await readFile(options.vectorFile));
    return Array.from(data as ArrayLike<number | bigint>, Number);
  }
  if (options.vector === undefined) return undefined;
  const values = options.vector.split(',').map((part) => Number(part.trim()));
  if (values.some(Number.isNaN))
    throw new UsageError(`--vector takes comma-separated numbers, not '${options.vector}'`);
  return values;
}

export async function jobRequest(op: string, options: RunOptions): Promise<JobRequest> {
  const params: Record<string, unknown> = {};
  for (const pair of options.param ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param takes key=value, not '${pair}'`);
    params[pair.slice(0, at)] = paramValue(pair.slice(at + 1));
  }
  const vector = await vectorOf(options);
  if (vector !== undefined) params.vector = vector;
  const request: Record<string, unknown> = { op };
  if (Object.keys(params).length > 0) request.params = params;
  if (options.rows !== undefined) request.rows = rowRange(options.rows);
  if (options.top !== undefined) {
    request.top = {
      k: integer(options.top, '--top'),
      ...(options.largest === undefined ? {} : { largest: options.largest }),
    };
  }
  // The server checks the op and its params against the registry and says what is wrong.
  return request as JobRequest;
}
