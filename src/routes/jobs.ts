import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { JobNotSucceeded, NotAcceptable } from '../errors.js';
import { sendCounted } from '../http/counted-send.js';
import type { JobEngine } from '../jobs/engine.js';
import { resultCsv, resultJson, resultNpy } from '../jobs/result-format.js';
import { isEnded } from '../jobs/status.js';
import { allOps } from '../ops/registry.js';
import { errors, IdParams } from '../schemas/common.js';
import {
  JobList,
  jobRequestSchema,
  listQuerySchema,
  ResultJson,
  ResultQuery,
  SubmitQuery,
} from '../schemas/jobs.js';
import { jobView } from './job-view.js';

export interface JobRoutesOptions {
  readonly engine: JobEngine;
  /** Aborted when the server begins to close: event streams end then. */
  readonly closing: AbortSignal;
  /** ROWPOOL_SEND_IDLE_TIMEOUT: a result reader that takes nothing this long is cut off. */
  readonly sendIdleSeconds: number;
}

const NPY_TYPE = 'application/x-npy';
const RESULT_TYPES = { json: 'application/json', npy: NPY_TYPE, csv: 'text/csv' } as const;
const DEFAULT_PAGE = 100;
/** Progress events go out at most this often. */
const PROGRESS_INTERVAL_SECONDS = 0.25;

const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesOptions> = async (
  app,
  { engine, closing, sendIdleSeconds },
) => {
  const ops = allOps();

  app.post(
    '/v1/datasets/:id/jobs',
    {
      schema: {
        summary: 'Start a per-row job on a dataset',
        description:
          'Runs the op on every row in rows.start..rows.end-1 on the worker pool. Jobs run first come, first served, at most ROWPOOL_MAX_RUNNING_JOBS at once (small jobs have a lane of their own). With wait=, answers 200 with the finished job if it ends within that many seconds, else 202.',
        tags: ['jobs'],
        params: IdParams,
        querystring: SubmitQuery,
        body: jobRequestSchema(ops),
        response: { 200: Type.Ref('Job'), 202: Type.Ref('Job'), ...errors(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const job = engine.submit(request.params.id, request.body);
      reply.header('location', `/v1/jobs/${job.id}`);
      const wait = request.query.wait ?? 0;
      if (wait > 0) await engine.waitFor(job, wait);
      return reply.code(wait > 0 && isEnded(job.status) ? 200 : 202).send(jobView(job));
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'List jobs, newest first, a page at a time',
        tags: ['jobs'],
        querystring: listQuerySchema(ops),
        response: { 200: JobList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE, cursor, ...filter } = request.query;
      const page = engine.list(filter, { limit, cursor });
      return { jobs: page.jobs.map((job) => jobView(job, true)), nextCursor: page.nextCursor };
    },
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
    async (request) => jobView(engine.get(request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      sse: { kind: 'only', heartbeat: false },
      schema: {
        summary: "A job's progress as Server-Sent Events",
        description:
          'progress events ({"rowsDone","rowsTotal"}, at most four a second, only when it moved), then one end event with the job as GET /v1/jobs/{id} gives it, then the stream closes. A job that has ended already gives its end event at once.',
        tags: ['jobs'],
        params: IdParams,
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errors(401, 404, 406),
        },
      },
    },
    async (request, reply) => {
      const job = engine.get(request.params.id);
      async function* events() {
        let last = -1;
        while (!isEnded(job.status) && !closing.aborted && reply.sse.isConnected) {
          const rowsDone = job.rowsDone();
          if (rowsDone !== last) {
            last = rowsDone;
            yield { event: 'progress', data: { rowsDone, rowsTotal: job.rows.end - job.rows.start } };
          }
          await engine.waitFor(job, PROGRESS_INTERVAL_SECONDS);
        }
        if (isEnded(job.status)) yield { event: 'end', data: jobView(job) };
      }
      await reply.sse.send(events());
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job, keeping its record',
        description:
          'The job ends cancelled (error.message says why) and frees its result; a job that has ended already is left as it is. DELETE /v1/jobs/{id} forgets it.',
        tags: ['jobs'],
        params: IdParams,
        response: { 200: Type.Ref('Job'), ...errors(401, 404) },
      },
    },
    async (request) => jobView(engine.cancel(request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      schema: {
        summary: "A succeeded job's result as JSON (default), .npy or CSV, chosen by ?format= or Accept",
        tags: ['jobs'],
        params: IdParams,
        querystring: ResultQuery,
        response: {
          200: {
            description:
              'JSON: NaN and infinities as the strings "NaN", "Infinity", "-Infinity". .npy: <f8 or <i8, or for top-k a structured array of (index <i8, value <f8). CSV: no header, one value per line (top-k: a header line index,value, then index,value lines); NaN and infinities as nan, inf, -inf.',
            content: {
              'application/json': { schema: ResultJson },
              [NPY_TYPE]: { schema: { type: 'string', format: 'binary' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errors(400, 401, 404, 406, 409),
        },
      },
    },
    async (request, reply) => {
      const job = engine.get(request.params.id);
      if (job.status !== 'succeeded') throw new JobNotSucceeded(job.id, job.status);
      const rows = job.rows.end - job.rows.start;
      const { format } = request.query;
      const type =
        format === undefined
          ? request.accepts().type(['application/json', NPY_TYPE, 'text/csv'])
          : RESULT_TYPES[format as keyof typeof RESULT_TYPES];
      if (typeof type !== 'string') throw new NotAcceptable();
      if (type !== 'application/json') {
        reply.header(
          'content-disposition',
          `attachment; filename="${job.id}.${type === NPY_TYPE ? 'npy' : 'csv'}"`,
        );
      }
      // The hold keeps the result counted until the download ends, even should the job be deleted.
      const { result, hold } = engine.holdResult(job);
      const pieces =
        type === NPY_TYPE
          ? resultNpy(result, rows)
          : type === 'text/csv'
            ? resultCsv(result, rows)
            : resultJson(job.id, result, rows);
      function* bytes() {
        for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
      }
      // Sent a piece at a time as the socket drains: the response schema describes it for OpenAPI only.
      return sendCounted(reply.type(type), bytes(), hold, sendIdleSeconds);
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
