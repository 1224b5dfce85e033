import { Ajv } from 'ajv';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/**
 * Bodies are validated strictly (no coercion, unknown properties refused rather than dropped);
 * query strings and path parameters arrive as text and are coerced to the declared types.
 */
export function validators() {
  const base = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const strict = new Ajv({ ...base, coerceTypes: false });
  const coercing = new Ajv({ ...base, coerceTypes: true });
  for (const ajv of [strict, coercing]) ajv.addFormat('date-time', true);
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema);
}

/** Ajv's first error in words a person with curl can act on, naming the field at fault. */
export function describeValidationError(error: FastifySchemaValidationError, dataVar: string): string {
  const where = `${dataVar}${error.instancePath.replaceAll('/', '.')}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown field "${params.additionalProperty}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message}`;
}
