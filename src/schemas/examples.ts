/**
 * Example bodies shared by several operations' documentation. test/openapi validates every example
 * in the document against its schema, so these cannot drift from what the service sends.
 */

export const DATASET_ID_EXAMPLE = '0b6f1a2e-3c3d-4e52-9a59-0e7f2f0c9b1d';
export const JOB_ID_EXAMPLE = '5d0c8e44-9a51-4f8e-8f0b-6f2b1b7f3a10';

export const DATASET_EXAMPLE = {
  id: DATASET_ID_EXAMPLE,
  name: 'embeddings',
  dtype: 'float32',
  shape: [1000, 128],
  rows: 1000,
  rowLength: 128,
  bytes: 512000,
  createdAt: '2026-01-15T09:30:00.000Z',
};

export const JOB_EXAMPLE = {
  id: JOB_ID_EXAMPLE,
  datasetId: DATASET_ID_EXAMPLE,
  op: 'mean',
  params: {},
  rows: { start: 0, end: 1000 },
  status: 'succeeded',
  progress: { rowsDone: 1000, rowsTotal: 1000 },
  createdAt: '2026-01-15T09:31:00.000Z',
  startedAt: '2026-01-15T09:31:00.002Z',
  finishedAt: '2026-01-15T09:31:00.015Z',
};

/** A top-k job still running, as the submit route answers 202 with it. */
export const TOP_K_JOB_EXAMPLE = {
  ...JOB_EXAMPLE,
  op: 'cosine',
  params: { vector: [0.1, 0.2, 0.3] },
  vectorLength: 3,
  top: { k: 3, largest: true },
  status: 'running',
  progress: { rowsDone: 256, rowsTotal: 1000 },
  finishedAt: null,
};
