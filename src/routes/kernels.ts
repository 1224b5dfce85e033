import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { KernelNotFound, KernelTooLarge, WasmOnly } from '../errors.js';
import type { InFlightUploads } from '../http/in-flight-uploads.js';
import { guardBody, type UploadPace } from '../http/upload-guard.js';
import type { MemoryBudget } from '../memory.js';
import {
  type ErrorDoc,
  errorBody,
  errorResponses,
  headerDoc,
  IdParamsSchema,
  jsonResponse,
} from '../schemas/common.js';
import { SHUTTING_DOWN, unauthorized } from '../schemas/error-docs.js';
import { KernelListSchema, KernelUploadQuerySchema } from '../schemas/kernels.js';
import { InvalidKernelModule } from '../user-kernels/errors.js';
import { type KernelStore, kernelInfo } from '../user-kernels/store.js';
import { compileKernelModule } from '../user-kernels/validate.js';
import { validators } from '../validation.js';

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

const KERNEL_ID_EXAMPLE = '6f1c2b9e-8d4a-4e0f-9b7e-2a1d5c3e4f60';

const KERNEL_EXAMPLE = {
  id: KERNEL_ID_EXAMPLE,
  name: 'longest-run',
  sha256: 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2',
  bytes: 582,
  abi: 1,
  createdAt: '2026-01-15T09:29:00.000Z',
};

const KERNEL_NOT_FOUND: ErrorDoc = {
  description: 'No kernel has this id',
  example: errorBody(new KernelNotFound(KERNEL_ID_EXAMPLE)),
};

const UNAUTHORIZED = unauthorized('ROWPOOL_API_TOKEN');

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
  const compileValidator = validators();

  app.post(
    '/v1/kernels',
    {
      // The body arrives as a stream: its schema documents it and the upload checks the module.
      validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : compileValidator(route)),
      schema: {
        summary: 'Upload a WebAssembly kernel',
        description:
          'Compiles the module once and checks it against the kernel ABI v1 (see the README). At most ROWPOOL_KERNEL_MAX_BYTES, refused with 413 from Content-Length before the body is read. The module holds its size of ROWPOOL_MEMORY_LIMIT until it is deleted.',
        tags: ['kernels'],
        querystring: KernelUploadQuerySchema,
        body: {
          description: 'The compiled module (a .wasm file) following the kernel ABI v1',
          content: { [WASM_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } } },
        },
        response: {
          201: jsonResponse(Type.Ref('Kernel'), {
            description: 'The kernel, compiled and checked',
            headers: { Location: headerDoc('The URL of the new kernel, /v1/kernels/{id}') },
            example: KERNEL_EXAMPLE,
          }),
          ...errorResponses({
            400: {
              description:
                'The body is not a kernel: not WebAssembly, truncated, empty, or outside the ABI v1 (imports other than env.memory and env.abort, its own or a shared memory, missing or mistyped exports); the message says what to change. Or the name is missing',
              example: errorBody(
                new InvalidKernelModule(
                  "the module's exports do not follow the kernel ABI v1: rowpool_rows has the signature (i32, i32, i32, i32, i32, i32) -> i32, expected (i32, i32, i32, i32, i32, i32, i32) -> i32",
                ),
              ),
            },
            401: UNAUTHORIZED,
            413: {
              description:
                'The module is larger than ROWPOOL_KERNEL_MAX_BYTES (from Content-Length before the body is read, or as it streams), or needs more of ROWPOOL_MEMORY_LIMIT than is free',
              example: errorBody(new KernelTooLarge(16777216)),
            },
            415: {
              description: 'The body is not sent as application/wasm',
              example: errorBody(new WasmOnly('application/octet-stream')),
            },
            503: SHUTTING_DOWN,
          }),
        },
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
        response: {
          200: jsonResponse(KernelListSchema, {
            description: 'Every kernel held',
            example: { kernels: [KERNEL_EXAMPLE] },
          }),
          ...errorResponses({ 401: UNAUTHORIZED }),
        },
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
        params: IdParamsSchema,
        response: {
          200: jsonResponse(Type.Ref('Kernel'), { description: 'The kernel', example: KERNEL_EXAMPLE }),
          ...errorResponses({ 401: UNAUTHORIZED, 404: KERNEL_NOT_FOUND }),
        },
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
        params: IdParamsSchema,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...errorResponses({ 401: UNAUTHORIZED, 404: KERNEL_NOT_FOUND }),
        },
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
