import { Type } from 'typebox';

export const KernelSchema = Type.Object(
  {
    id: Type.String({ examples: ['6f1c2b9e-8d4a-4e0f-9b7e-2a1d5c3e4f60'] }),
    name: Type.String({ examples: ['longest-run'] }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Of the uploaded module, hex' }),
    bytes: Type.Integer({
      minimum: 1,
      description: "The module's size, which it holds of ROWPOOL_MEMORY_LIMIT",
    }),
    abi: Type.Integer({ description: 'The kernel ABI version the module follows', examples: [1] }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Kernel' },
);

export const KernelListSchema = Type.Object({ kernels: Type.Array(Type.Ref('Kernel')) });

export const KernelUploadQuerySchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      description: "A label for the kernel, used in its jobs' errors",
    }),
  },
  { additionalProperties: false },
);
