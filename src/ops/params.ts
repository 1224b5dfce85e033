/**
 * A job's params, checked against its op's entry. The request schema (schemas/jobs.ts) has already
 * checked each key's type against the union of every op's params; here the op's own schema decides
 * which keys it takes, fills in its defaults and says what is missing, then the checks that need the
 * dataset run, so every refusal is a 400 at submit time rather than a failure inside a worker.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type TSchema, Type } from 'typebox';
import { InvalidJob } from '../errors.js';
import type { DatasetShape, OpContext, OpDefinition } from './op.js';

const ajv = new Ajv({ strict: false, useDefaults: true, coerceTypes: false, allErrors: false });
const compiled = new WeakMap<OpDefinition, ValidateFunction>();

function validatorOf(op: OpDefinition): ValidateFunction {
  let validate = compiled.get(op);
  if (validate === undefined) {
    validate = ajv.compile(op.params);
    compiled.set(op, validate);
  }
  return validate;
}

function paramNames(op: OpDefinition): string[] {
  return Object.keys(op.params.properties);
}

function describe(op: OpDefinition, error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const names = paramNames(op);
    return `unknown param "${params.additionalProperty}" for op ${op.name}; ${names.length === 0 ? 'it takes no params' : `it takes ${names.join(', ')}`}`;
  }
  if (error.keyword === 'required') {
    const key = String(params.missingProperty);
    const schema = op.params.properties[key] as TSchema & { description?: string };
    return `op ${op.name} needs params.${key}${schema?.description ? `: ${schema.description}` : ''}`;
  }
  const where = `body.params${error.instancePath.replaceAll('/', '.')}`;
  if (error.keyword === 'enum') {
    return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message}`;
}

/** The op's params from the request, validated with defaults filled in; throws InvalidJob (400). */
export function validateParams(
  op: OpDefinition,
  given: object | undefined,
  dataset: DatasetShape,
  context: OpContext = {},
): unknown {
  const params = structuredClone(given ?? {}) as Record<string, unknown>;
  const validate = validatorOf(op);
  if (!validate(params)) throw new InvalidJob(describe(op, validate.errors![0]));
  const vector = params.vector as number[] | undefined;
  const vectors = params.vectors as number[][] | undefined;
  if (op.vector === 'row') checkQueries(op, vector, vectors, dataset.rowLength);
  if (vector?.some((v) => !Number.isFinite(v))) {
    throw new InvalidJob('params.vector must hold finite numbers (JSON has no NaN or infinity)');
  }
  if (dataset.rowLength === 0 && op.needsNonEmptyRows(params)) {
    throw new InvalidJob(
      `op ${op.name}${op.name === 'norm' ? ' with ord "inf"' : ''} is undefined on rows of length 0 (NumPy refuses it too)`,
    );
  }
  const problem = op.check?.(params, dataset, context);
  if (problem !== undefined) throw new InvalidJob(problem);
  return params;
}

/** The most numbers a batch of queries may hold in all: 16 MiB as float64, copied once per worker. */
export const MAX_BATCH_NUMBERS = 2 ** 21;

/** Exactly one of params.vector and params.vectors, each vector one number per row element. */
function checkQueries(
  op: OpDefinition,
  vector: number[] | undefined,
  vectors: number[][] | undefined,
  rowLength: number,
): void {
  if (vector === undefined && vectors === undefined) {
    throw new InvalidJob(
      `op ${op.name} needs params.vector, a list of ${rowLength} numbers (the row length), or params.vectors, a list of such lists`,
    );
  }
  if (vector !== undefined && vectors !== undefined) {
    throw new InvalidJob('give params.vector (one query) or params.vectors (a batch of queries), not both');
  }
  if (vector !== undefined && vector.length !== rowLength) {
    throw new InvalidJob(
      `params.vector has ${vector.length} numbers but the dataset's rows have ${rowLength}`,
    );
  }
  if (vectors === undefined) return;
  if (vectors.length * rowLength > MAX_BATCH_NUMBERS) {
    throw new InvalidJob(
      `params.vectors holds ${vectors.length} vectors of ${rowLength} numbers; a batch may hold at most ${MAX_BATCH_NUMBERS} numbers in all, so send it as several jobs`,
    );
  }
  for (let j = 0; j < vectors.length; j++) {
    if (vectors[j].length !== rowLength) {
      throw new InvalidJob(
        `params.vectors[${j}] has ${vectors[j].length} numbers but the dataset's rows have ${rowLength}`,
      );
    }
    if (vectors[j].some((v) => !Number.isFinite(v))) {
      throw new InvalidJob(`params.vectors[${j}] must hold finite numbers (JSON has no NaN or infinity)`);
    }
  }
}

/** Drops the defaults from a copy of a schema, so documenting a key never fills it in. */
function withoutDefault(schema: TSchema): TSchema {
  const { default: _dropped, ...rest } = schema as TSchema & { default?: unknown };
  return rest as TSchema;
}

/**
 * The request's `params` object: every key some op takes, documented with the ops that take it.
 * A key two ops type differently accepts either type here; the op's own schema then decides.
 */
export function requestParamsSchema(ops: readonly OpDefinition[]): TSchema {
  const byKey = new Map<string, { ops: string[]; schemas: Map<string, TSchema> }>();
  for (const op of ops) {
    for (const [key, schema] of Object.entries(op.params.properties)) {
      const entry = byKey.get(key) ?? { ops: [] as string[], schemas: new Map<string, TSchema>() };
      entry.ops.push(op.name);
      const plain = withoutDefault(schema as TSchema);
      const { description: _d, ...shape } = plain as TSchema & { description?: string };
      entry.schemas.set(JSON.stringify(shape), plain);
      byKey.set(key, entry);
    }
  }
  const properties: Record<string, TSchema> = {};
  for (const [key, { ops: names, schemas }] of byKey) {
    const variants = [...schemas.values()];
    const first = variants[0] as TSchema & { description?: string };
    // Each op's own words (and default) for the key, joined when the ops say different things.
    const said = ops
      .filter((op) => names.includes(op.name))
      .map((op) => {
        const own = op.params.properties[key] as { description?: string; default?: unknown };
        const fallback = own.default === undefined ? '' : ` (default ${JSON.stringify(own.default)})`;
        return { name: op.name, text: `${own.description ?? key}${fallback}` };
      });
    const byText = new Map<string, string[]>();
    for (const { name, text } of said) byText.set(text, [...(byText.get(text) ?? []), name]);
    const description = [...byText].map(([text, opNames]) => `${opNames.join(', ')}: ${text}`).join('; ');
    properties[key] = Type.Optional(
      variants.length === 1
        ? { ...first, description }
        : Type.Union(
            variants.map((v) => {
              const { description: _x, ...rest } = v as TSchema & { description?: string };
              return rest as TSchema;
            }),
            { description },
          ),
    );
  }
  return Type.Object(properties, {
    additionalProperties: false,
    description: "The op's parameters; each op takes only its own (see the op's description)",
  });
}
