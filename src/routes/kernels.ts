import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { KernelTooLarge, WasmOnly } from '../errors.js';
import type { InFlightUploads } from '../http/in-flight-uploads.js';
import { guardBody, type UploadPace } from '../http/upload-guard.js';
import type { MemoryBudget } from '../memory.js';
import { errors, IdParams } from '../schemas/common.js';
import { KernelList, KernelUploadQuery } from '../schemas/kernels.js';
import { type KernelStore, kernelInfo } from '../user-kernels/store.js';
import { compileKernelModule } from '../user-kernels/validate.js';

export interface KernelRoutesOptions {
  readonly kernels: KernelStore;
  readonly budget: MemoryBudget;
  /** ROWPOOL_KERNEL_MAX_BYTES. */
  readonly maxBytes: number;
  /** ROWPOOL_KERNEL_MEMORY: a module that needs more memory than this is refused at upload. */
  readonly memoryCapBytes: number;
  readonly uploadPace: UploadPace;
  readonly uploads: InFlightUploads;
}

export const WASM_MEDIA_TYPE = 'application/wasm';

/** The whole body in one buffer; the guard around it ends it with 413 once it passes the maximum. */
async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  return Buffer.concat(chunks, length);
}

const kernelRoutes: FastifyPluginAsyncTypebox<KernelRoutesOptions> = async (app, opts) => {
  const { kernels, budget, maxBytes, uploads } = opts;

  // Only modules: any other body type is a 415 (see error-handler.ts), and the body stays a stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(WASM_MEDIA_TYPE, (_request, payload, done) => done(null, payload));

  app.post(
    '/v1/kernels',
    {
      schema: {
        summary: 'Upload a WebAssembly kernel',
        description:
          'Compiles the module once and checks it against the kernel ABI v1 (see the README). At most ROWPOOL_KERNEL_MAX_BYTES, refused with 413 from Content-Length before the body is read. The module holds its size of ROWPOOL_MEMORY_LIMIT until it is deleted.',
        tags: ['kernels'],
        querystring: KernelUploadQuery,
        response: { 201: Type.Ref('Kernel'), ...errors(400, 401, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      if (request.body === undefined || request.body === null) throw new WasmOnly('(none)');
      const declared = request.headers['content-length'];
      if (declared !== undefined) {
        if (Number(declared) > maxBytes) throw new KernelTooLarge(maxBytes);
        budget.assertCouldFit(Number(declared), 'the kernel');
      }
      const upload = uploads.begin();
      let bytes: Uint8Array;
      try {
        bytes = await readAll(
          guardBody(request.body as Readable, { ...opts.uploadPace, maxBytes, signal: upload.signal }),
        );
      } catch (err) {
        // The shared guard's 413 speaks of datasets; a module's limit is its own.
        if ((err as { code?: string }).code === 'ROWPOOL_BODY_TOO_LARGE') throw new KernelTooLarge(maxBytes);
        throw err;
      } finally {
        upload.end();
      }
      const checked = await compileKernelModule(bytes, opts.memoryCapBytes);
      const reservation = budget.reserve(bytes.byteLength, 'the kernel');
      const kernel = kernels.add(checked, request.query.name, bytes.byteLength, reservation);
      request.log.info(
        { kernelId: kernel.id, name: kernel.name, bytes: kernel.bytes, sha256: kernel.sha256 },
        'kernel stored',
      );
      return reply.code(201).header('location', `/v1/kernels/${kernel.id}`).send(kernelInfo(kernel));
    },
  );

  app.get(
    '/v1/kernels',
    {
      schema: {
        summary: 'List the kernels',
        tags: ['kernels'],
        response: { 200: KernelList, ...errors(401) },
      },
    },
    async () => ({ kernels: kernels.list().map(kernelInfo) }),
  );

  app.get(
    '/v1/kernels/:id',
    {
      schema: {
        summary: 'Describe a kernel',
        tags: ['kernels'],
        params: IdParams,
        response: { 200: Type.Ref('Kernel'), ...errors(401, 404) },
      },
    },
    async (request) => kernelInfo(kernels.get(request.params.id)),
  );

  app.delete(
    '/v1/kernels/:id',
    {
      schema: {
        summary: 'Delete a kernel, cancelling its running jobs and releasing its memory',
        tags: ['kernels'],
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const kernel = kernels.delete(request.params.id);
      request.log.info({ kernelId: kernel.id, bytes: kernel.bytes }, 'kernel deleted');
      return reply.code(204).send(null);
    },
  );
};

export default kernelRoutes;
