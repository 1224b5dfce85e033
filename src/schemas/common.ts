import { Type } from 'typebox';

/** Fastify's error shape, which every 4xx and 5xx answer has. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599, examples: [404] }),
    code: Type.Optional(Type.String({ examples: ['ROWPOOL_DATASET_NOT_FOUND'] })),
    error: Type.String({ examples: ['Not Found'] }),
    message: Type.String({ examples: ['dataset 6f1c… not found'] }),
  },
  { $id: 'ErrorResponse', description: 'What went wrong and what is accepted' },
);

export const IdParams = Type.Object({
  id: Type.String({ description: 'The id rowpool gave when the resource was created' }),
});

export function errors(...codes: number[]) {
  return Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorResponse')]));
}
