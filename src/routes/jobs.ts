import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { JobNotSucceeded, NotAcceptable } from '../errors.js';
import type { JobEngine } from '../jobs/engine.js';
import { resultCsv, resultJson, resultNpy } from '../jobs/result-format.js';
import type { JobRequest } from '../jobs/spec.js';
import { errors, IdParams } from '../schemas/common.js';
import { JobList, JobRequestSchema, ListQuery, ResultJson, SubmitQuery } from '../schemas/jobs.js';

export interface JobRoutesOptions {
  readonly engine: JobEngine;
}

const NPY_TYPE = 'application/x-npy';

const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesOptions> = async (app, { engine }) => {
  app.post(
    '/v1/datasets/:id/jobs',
    {
      schema: {
        summary: 'Start a per-row job on a dataset',
        description:
          'Runs the op on every row in rows.start..rows.end-1 on the worker pool. With wait=, answers 200 with the finished job if it ends within that many seconds, else 202.',
        tags: ['jobs'],
        params: IdParams,
        querystring: SubmitQuery,
        body: JobRequestSchema,
        response: { 200: Type.Ref('Job'), 202: Type.Ref('Job'), ...errors(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const job = engine.submit(request.params.id, request.body as JobRequest);
      reply.header('location', `/v1/jobs/${job.id}`);
      const wait = request.query.wait ?? 0;
      if (wait > 0) await engine.waitFor(job, wait);
      const view = engine.view(job);
      const done = view.status !== 'queued' && view.status !== 'running';
      return reply.code(wait > 0 && done ? 200 : 202).send(view);
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'List jobs, newest first',
        tags: ['jobs'],
        querystring: ListQuery,
        response: { 200: JobList, ...errors(400, 401) },
      },
    },
    async (request) => ({
      jobs: engine.list(request.query.status as Parameters<JobEngine['list']>[0]).map((j) => engine.view(j)),
    }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: "A job's status and progress",
        tags: ['jobs'],
        params: IdParams,
        response: { 200: Type.Ref('Job'), ...errors(401, 404) },
      },
    },
    async (request) => engine.view(engine.get(request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      schema: {
        summary: "A succeeded job's result as JSON (default), .npy or CSV, chosen by Accept",
        tags: ['jobs'],
        params: IdParams,
        response: {
          200: {
            description:
              'JSON: NaN and infinities as the strings "NaN", "Infinity", "-Infinity". .npy: <f8 or <i8, or for top-k a structured array of (index <i8, value <f8). CSV: one value per line (top-k: index,value).',
            content: {
              'application/json': { schema: ResultJson },
              [NPY_TYPE]: { schema: { type: 'string', format: 'binary' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errors(401, 404, 406, 409),
        },
      },
    },
    async (request, reply) => {
      const job = engine.get(request.params.id);
      if (job.status !== 'succeeded') throw new JobNotSucceeded(job.id, job.status);
      const result = engine.result(job);
      const rows = job.spec.rows.end - job.spec.rows.start;
      const type = request.accepts().type(['application/json', NPY_TYPE, 'text/csv']);
      if (typeof type !== 'string') throw new NotAcceptable();
      const body: unknown =
        type === NPY_TYPE
          ? resultNpy(result, rows)
          : type === 'text/csv'
            ? resultCsv(result, rows)
            : resultJson(job.id, result, rows);
      // Sent ready-made: the response schema describes it for OpenAPI but must not re-serialise it.
      return reply.type(type).send(body as string);
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job if it runs, free its result and forget it',
        tags: ['jobs'],
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      engine.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default jobRoutes;
