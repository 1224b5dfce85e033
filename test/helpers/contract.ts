import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { parse } from 'yaml';

/** The parts of an OpenAPI 3.1 document the contract checks read. */
export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { schema: Schema; description?: string }>;
  content?: Record<string, MediaType>;
}

export interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

type Schema = Record<string, unknown>;

export const OPENAPI_FILE = new URL('../../openapi.yaml', import.meta.url);

/** The committed document, which test/openapi/drift.test.ts keeps equal to what the server generates. */
export function loadOpenApi(): OpenApiDoc {
  return parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDoc;
}

const COMPONENT_REF = '#/components/schemas/';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** `#/components/schemas/Job` -> `Job`, the id each component is registered under with Ajv. */
function localRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(localRefs);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF)
        ? value.slice(COMPONENT_REF.length)
        : localRefs(value),
    ]),
  );
}

const validators = new WeakMap<OpenApiDoc, { ajv: Ajv2020; compiled: Map<Schema, ValidateFunction> }>();

/** Compiles a schema of the document with JSON Schema 2020-12, the dialect of OpenAPI 3.1. */
export function validatorFor(doc: OpenApiDoc, schema: Schema): ValidateFunction {
  let entry = validators.get(doc);
  if (entry === undefined) {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addFormat('date-time', { validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
    for (const [name, component] of Object.entries(doc.components.schemas)) {
      ajv.addSchema(localRefs(component) as Schema, name);
    }
    entry = { ajv, compiled: new Map() };
    validators.set(doc, entry);
  }
  let validate = entry.compiled.get(schema);
  if (validate === undefined) {
    validate = entry.ajv.compile(localRefs(schema) as Schema);
    entry.compiled.set(schema, validate);
  }
  return validate;
}

/** `/v1/datasets/:id` and `/v1/datasets/{id}` alike become the document's `/v1/datasets/{id}`. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The documented path template a concrete URL falls under, or undefined. */
export function matchPath(doc: OpenApiDoc, url: string): string | undefined {
  const path = url.split('?')[0];
  const templates = Object.keys(doc.paths);
  if (templates.includes(path)) return path;
  return templates.find((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(path);
  });
}

function essence(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

export class ContractError extends Error {
  override name = 'ContractError';
}

/**
 * Checks one response against the document: the status is documented for the operation, the content
 * type is one documented for that status (none for a bodiless one), documented headers are present,
 * and a JSON body validates against its schema. Throws a ContractError saying what differs.
 */
export function checkResponse(
  doc: OpenApiDoc,
  method: string,
  route: string,
  status: number,
  contentType: string | undefined,
  body: unknown,
  headers: Record<string, unknown> = {},
): void {
  const path = openApiPath(route);
  const where = `${method.toUpperCase()} ${path} -> ${status}`;
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (operation === undefined)
    throw new ContractError(`${method.toUpperCase()} ${path} is not in openapi.yaml`);
  const response = operation.responses[String(status)] ?? operation.responses.default;
  if (response === undefined) {
    throw new ContractError(
      `${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')}); body: ${JSON.stringify(body)}`,
    );
  }
  for (const name of Object.keys(response.headers ?? {})) {
    if (headers[name.toLowerCase()] === undefined) {
      throw new ContractError(`${where}: documented header ${name} is missing`);
    }
  }
  const type = essence(contentType);
  if (response.content === undefined) {
    const empty = body === undefined || body === '' || body === null;
    if (!empty) throw new ContractError(`${where}: documented without a body, got ${type || 'no type'}`);
    return;
  }
  const media = response.content[type];
  if (media === undefined) {
    throw new ContractError(
      `${where}: content type ${type || '(none)'} not documented (documented: ${Object.keys(response.content).join(', ')})`,
    );
  }
  if (!isJson(type) || media.schema === undefined) return;
  const validate = validatorFor(doc, media.schema);
  if (!validate(body)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ContractError(
      `${where}: body does not match the schema: ${problems}; body: ${JSON.stringify(body)}`,
    );
  }
}

/** Every response an inject() got, for checking that a scenario reached each documented one. */
export interface Seen {
  method: string;
  path: string;
  status: number;
}

export interface ContractClient {
  /** app.inject(), then checkResponse() on the answer: a response that breaks the contract throws. */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  readonly seen: readonly Seen[];
}

/**
 * Wraps app.inject so that every response is checked against the document. The operation is found
 * from the URL; a URL under no documented path throws, so a test cannot pass by missing the contract.
 */
export function contractClient(app: FastifyInstance, doc: OpenApiDoc = loadOpenApi()): ContractClient {
  const seen: Seen[] = [];
  return {
    seen,
    async inject(options) {
      const method = (options.method ?? 'GET').toString().toUpperCase();
      const url = typeof options.url === 'string' ? options.url : (options.path?.toString() ?? '/');
      const path = matchPath(doc, url);
      if (path === undefined) throw new ContractError(`${method} ${url} is under no path of openapi.yaml`);
      const res = await app.inject(options);
      const type = essence(res.headers['content-type']?.toString());
      const body = isJson(type) && res.body !== '' ? res.json() : res.body;
      checkResponse(doc, method, path, res.statusCode, type, body, res.headers);
      seen.push({ method, path, status: res.statusCode });
      return res;
    },
  };
}
