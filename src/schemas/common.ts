import { STATUS_CODES } from 'node:http';
import { type TSchema, Type } from 'typebox';

/** Fastify's error shape, which every 4xx and 5xx answer has. */
export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599, examples: [404] }),
    code: Type.Optional(Type.String({ examples: ['ROWPOOL_DATASET_NOT_FOUND'] })),
    error: Type.String({ examples: ['Not Found'] }),
    message: Type.String({ examples: ['dataset 6f1c… not found'] }),
  },
  { $id: 'ErrorResponse', description: 'What went wrong and what is accepted' },
);

export const IdParamsSchema = Type.Object({
  id: Type.String({ description: 'The id rowpool gave when the resource was created' }),
});

/** A response header as @fastify/swagger reads it: a schema whose description becomes the header's. */
export interface HeaderDoc {
  readonly type: 'string';
  readonly description: string;
  readonly const?: string;
}

export function headerDoc(description: string, value?: string): HeaderDoc {
  return value === undefined
    ? { type: 'string', description }
    : { type: 'string', description, const: value };
}

/** A body as the error handler sends it. */
export interface ErrorBody {
  readonly statusCode: number;
  readonly code?: string;
  readonly error: string;
  readonly message: string;
}

/** The body the server sends for an error, so documented examples follow src/errors.ts word for word. */
export function errorBody(err: Error & { statusCode?: number; code?: string }): ErrorBody {
  const statusCode = err.statusCode ?? 500;
  return { statusCode, code: err.code, error: STATUS_CODES[statusCode] ?? 'Error', message: err.message };
}

/** What an error status means for one operation, with a body the server answers it with. */
export interface ErrorDoc {
  readonly description: string;
  readonly example: ErrorBody;
  readonly headers?: Readonly<Record<string, HeaderDoc>>;
}

/** A named example of a media type, as OpenAPI's `examples` map holds it. */
export interface NamedExample {
  readonly summary: string;
  readonly value: unknown;
}

/** What a response documents besides its schema. */
export interface ResponseDoc {
  readonly description: string;
  readonly headers?: Readonly<Record<string, HeaderDoc>>;
  readonly example?: unknown;
  readonly examples?: Readonly<Record<string, NamedExample>>;
}

/**
 * A JSON response in the `content` form, which Fastify serialises by its schema and @fastify/swagger
 * copies into the document whole: description, headers and examples stay with the route that sends it.
 */
export function jsonResponse<S extends TSchema>(schema: S, doc: ResponseDoc) {
  const { description, headers, example, examples } = doc;
  return {
    description,
    ...(headers === undefined ? {} : { headers }),
    content: {
      'application/json': {
        schema,
        ...(example === undefined ? {} : { example }),
        ...(examples === undefined ? {} : { examples }),
      },
    },
  };
}

/** The error statuses an operation answers, each with what it means there and the body it sends. */
export function errorResponses(docs: Readonly<Record<number, ErrorDoc>>) {
  return Object.fromEntries(
    Object.entries(docs).map(([status, { description, example, headers }]) => [
      status,
      jsonResponse(Type.Ref('ErrorResponse'), { description, example, headers }),
    ]),
  );
}

/**
 * Request media entries as @fastify/swagger documents them: it keeps only each entry's schema and
 * lifts a schema's single example to the entry, so an entry's example is carried inside its schema.
 */
export function bodyMedia(entries: Readonly<Record<string, Readonly<Record<string, unknown>>>>) {
  return Object.fromEntries(
    Object.entries(entries).map(([type, { schema, example }]) => [
      type,
      { schema: example === undefined ? schema : { ...(schema as object), examples: [example] } },
    ]),
  );
}
