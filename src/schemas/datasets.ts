import { Type } from 'typebox';
import { DTYPES } from '../datasets/dtypes.js';

export const DatasetSchema = Type.Object(
  {
    id: Type.String({ examples: ['0b6f1a2e-3c3d-4e52-9a59-0e7f2f0c9b1d'] }),
    name: Type.Union([Type.String(), Type.Null()]),
    dtype: Type.String({ enum: [...DTYPES], examples: ['float32'] }),
    shape: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, examples: [[1000, 128]] }),
    rows: Type.Integer({ minimum: 0, description: 'shape[0]' }),
    rowLength: Type.Integer({ minimum: 0, description: 'product(shape[1:]), 1 for a 1-D array' }),
    bytes: Type.Integer({ minimum: 0, description: 'Data bytes held in shared memory' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Dataset' },
);

export const MemoryInfoSchema = Type.Object({
  limitBytes: Type.Integer({ description: 'ROWPOOL_MEMORY_LIMIT' }),
  usedBytes: Type.Integer({ description: 'Datasets, uploads in flight and job results' }),
  freeBytes: Type.Integer(),
});

export const DatasetListQuerySchema = Type.Object(
  { name: Type.Optional(Type.String({ description: 'Only the datasets with this name' })) },
  { additionalProperties: false },
);

export const DatasetListSchema = Type.Object({
  datasets: Type.Array(Type.Ref('Dataset')),
  memory: MemoryInfoSchema,
});

export const UploadQuerySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 256, description: 'A label for the dataset' })),
    dtype: Type.Optional(
      Type.String({
        description:
          'Raw bytes: the element type (required with shape). CSV: the type to store (default float64)',
        examples: ['float32'],
      }),
    ),
    shape: Type.Optional(
      Type.String({
        description: 'Raw bytes: comma-separated dimensions, e.g. 1000,128',
        examples: ['1000,128'],
      }),
    ),
  },
  { additionalProperties: false },
);

export const JsonUploadSchema = Type.Object(
  {
    dtype: Type.Optional(Type.String({ description: 'Default float64', examples: ['float32'] })),
    data: Type.Array(Type.Unknown(), {
      description: 'Nested lists of a regular shape; numbers, true/false, "NaN", "Infinity", "-Infinity"',
      examples: [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ],
    }),
    name: Type.Optional(Type.String({ maxLength: 256 })),
  },
  {
    additionalProperties: false,
    // A single example of a request body becomes the media type's example in the document.
    examples: [
      {
        name: 'small',
        dtype: 'float32',
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
    ],
  },
);
