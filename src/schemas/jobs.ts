import { type Static, type TSchema, Type } from 'typebox';
import { JOB_STATUSES } from '../jobs/status.js';
import type { OpDefinition } from '../ops/op.js';
import { requestParamsSchema } from '../ops/params.js';

/**
 * Job schemas. The op list and the params object come from the op registry, so they are made when
 * the app is built (after any op was registered) rather than when this module loads.
 */

function opNameSchema(ops: readonly OpDefinition[], description?: string) {
  return Type.String({
    enum: ops.map((op) => op.name),
    ...(description === undefined ? {} : { description }),
  });
}

function opsDescription(ops: readonly OpDefinition[]): string {
  const lines = ops.map((op) => {
    const params = Object.keys(op.params.properties);
    return `- \`${op.name}\`${params.length > 0 ? ` (${params.join(', ')})` : ''}: ${op.summary}; NumPy: \`${op.numpy}\``;
  });
  return `The per-row computation. Row x is data[i] flattened and converted to float64.\n\n${lines.join('\n')}`;
}

export function jobRequestSchema(ops: readonly OpDefinition[]) {
  return Type.Object(
    {
      op: opNameSchema(ops, opsDescription(ops)),
      params: Type.Optional(Type.Unsafe<Record<string, unknown>>(requestParamsSchema(ops))),
      rows: Type.Optional(
        Type.Object(
          {
            start: Type.Optional(Type.Integer({ minimum: 0, description: 'First row (default 0)' })),
            end: Type.Optional(
              Type.Integer({ minimum: 0, description: 'End row, exclusive (default: all rows)' }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      top: Type.Optional(
        Type.Object(
          {
            k: Type.Integer({ minimum: 1, description: 'How many rows to keep' }),
            largest: Type.Optional(
              Type.Boolean({
                description:
                  'Keep the largest values (true) or the smallest (false). Default: smallest for euclidean (nearest first), largest for every other op',
              }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    },
    {
      additionalProperties: false,
      examples: [{ op: 'cosine', params: { vector: [0.1, 0.2, 0.3] }, top: { k: 10 } }],
    },
  );
}

export type JobRequestBody = Static<ReturnType<typeof jobRequestSchema>>;

export function jobSchema(ops: readonly OpDefinition[]) {
  return Type.Object(
    {
      id: Type.String(),
      datasetId: Type.String(),
      op: opNameSchema(ops),
      params: Type.Record(Type.String(), Type.Unknown(), {
        description:
          'The params as validated, defaults filled in. List views leave out params.vector and params.vectors and give vectorLength or queries instead',
      }),
      vectorLength: Type.Optional(Type.Integer({ description: 'How many numbers params.vector holds' })),
      queries: Type.Optional(Type.Integer({ description: 'How many query vectors params.vectors holds' })),
      rows: Type.Object({ start: Type.Integer(), end: Type.Integer() }),
      top: Type.Optional(Type.Object({ k: Type.Integer(), largest: Type.Boolean() })),
      status: Type.String({ enum: [...JOB_STATUSES] }),
      progress: Type.Object({ rowsDone: Type.Integer(), rowsTotal: Type.Integer() }),
      createdAt: Type.String({ format: 'date-time' }),
      startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      error: Type.Optional(
        Type.Object({
          message: Type.String({ description: 'Why the job failed, or why it was cancelled' }),
        }),
      ),
    },
    { $id: 'Job' },
  );
}

export const JobListSchema = Type.Object({
  jobs: Type.Array(Type.Ref('Job')),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as cursor to get the next page; null on the last page',
  }),
});

export const SubmitQuerySchema = Type.Object(
  {
    wait: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 60,
        description: 'Seconds to wait for the job to end: 200 if it did, else 202',
      }),
    ),
  },
  { additionalProperties: false },
);

export function listQuerySchema(ops: readonly OpDefinition[]) {
  return Type.Object(
    {
      status: Type.Optional(Type.Enum([...JOB_STATUSES])),
      datasetId: Type.Optional(Type.String({ description: "Only this dataset's jobs" })),
      op: Type.Optional(opNameSchema(ops, 'Only jobs of this op')),
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 1000, description: 'Jobs per page (default 100)' }),
      ),
      cursor: Type.Optional(Type.String({ description: 'nextCursor from the previous page' })),
    },
    { additionalProperties: false },
  );
}

export const ResultQuerySchema = Type.Object(
  {
    format: Type.Optional(
      Type.String({
        enum: ['json', 'npy', 'csv'],
        description: 'The result format; overrides Accept',
      }),
    ),
  },
  { additionalProperties: false },
);

const NumberOrNonFiniteSchema = Type.Union([
  Type.Number(),
  Type.Literal('NaN'),
  Type.Literal('Infinity'),
  Type.Literal('-Infinity'),
]);

export const ResultJsonSchema: TSchema = Type.Union(
  [
    Type.Object({
      jobId: Type.String(),
      dtype: Type.String({ enum: ['float64', 'int64'] }),
      shape: Type.Array(Type.Integer(), { minItems: 1, maxItems: 1 }),
      data: Type.Array(NumberOrNonFiniteSchema),
    }),
    Type.Object({
      jobId: Type.String(),
      indices: Type.Array(Type.Integer(), { description: 'Dataset row indices, best first' }),
      values: Type.Array(NumberOrNonFiniteSchema),
    }),
    Type.Object({
      jobId: Type.String(),
      indices: Type.Array(Type.Array(Type.Integer()), {
        description: 'One list per query of params.vectors: dataset row indices, best first',
      }),
      values: Type.Array(Type.Array(NumberOrNonFiniteSchema)),
    }),
  ],
  {
    description:
      'A plain result (one value per row), the best rows of a top-k job, or of each query of a batch (params.vectors)',
  },
);
