import { Type } from 'typebox';
import { JOB_STATUSES } from '../jobs/engine.js';
import { OPS } from '../jobs/kernels/index.js';

export const JobParamsSchema = Type.Object(
  {
    ddof: Type.Optional(
      Type.Integer({ minimum: 0, description: 'var, std: delta degrees of freedom (default 0)' }),
    ),
    ord: Type.Optional(Type.Enum([1, 2, 'inf'], { description: 'norm: 1, 2 (default) or "inf"' })),
    q: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'quantile: required, in [0, 1]' })),
    vector: Type.Optional(
      Type.Array(Type.Number(), {
        description: 'dot, cosine, euclidean: required, one number per row element',
      }),
    ),
  },
  { additionalProperties: false },
);

export const JobRequestSchema = Type.Object(
  {
    op: Type.String({ enum: [...OPS], description: 'The per-row computation' }),
    params: Type.Optional(JobParamsSchema),
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
          largest: Type.Optional(Type.Boolean({ description: 'Largest first (default) or smallest first' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ op: 'cosine', params: { vector: [0.1, 0.2, 0.3] }, top: { k: 10, largest: true } }],
  },
);

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    datasetId: Type.String(),
    op: Type.String({ enum: [...OPS] }),
    params: JobParamsSchema,
    rows: Type.Object({ start: Type.Integer(), end: Type.Integer() }),
    top: Type.Optional(Type.Object({ k: Type.Integer(), largest: Type.Boolean() })),
    status: Type.String({ enum: [...JOB_STATUSES] }),
    progress: Type.Object({ rowsDone: Type.Integer(), rowsTotal: Type.Integer() }),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    error: Type.Optional(Type.Object({ message: Type.String() })),
  },
  { $id: 'Job' },
);

export const JobList = Type.Object({ jobs: Type.Array(Type.Ref('Job')) });

export const SubmitQuery = Type.Object(
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

export const ListQuery = Type.Object(
  { status: Type.Optional(Type.String({ enum: [...JOB_STATUSES] })) },
  { additionalProperties: false },
);

const Number_ = Type.Union([
  Type.Number(),
  Type.Literal('NaN'),
  Type.Literal('Infinity'),
  Type.Literal('-Infinity'),
]);

export const ResultJson = Type.Union(
  [
    Type.Object({
      jobId: Type.String(),
      dtype: Type.String({ enum: ['float64', 'int64'] }),
      shape: Type.Array(Type.Integer(), { minItems: 1, maxItems: 1 }),
      data: Type.Array(Number_),
    }),
    Type.Object({
      jobId: Type.String(),
      indices: Type.Array(Type.Integer(), { description: 'Dataset row indices, best first' }),
      values: Type.Array(Number_),
    }),
  ],
  { description: 'A plain result (one value per row), or the best rows of a top-k job' },
);
