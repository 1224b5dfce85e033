import { STATUS_CODES } from 'node:http';
import { describe, expect, test } from 'vitest';
import { loadOpenApi } from '../helpers/contract.js';

/*
 * Each route documents its own responses, so the document is checked for what a route could forget:
 * a description of its own for every response, an example for every JSON body, and parameters that
 * Swagger UI's "Try it out" would not fill in and send.
 */

const doc = loadOpenApi();

interface Parameter {
  name: string;
  in: string;
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: unknown;
}

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ where: `${method} ${path}`, op })),
);

describe('each operation documents', () => {
  test('every response with a description of its own, not a default or the bare status name', () => {
    const generic = operations.flatMap(({ where, op }) =>
      Object.entries(op.responses)
        .filter(
          ([status, r]) => r.description === 'Default Response' || r.description === STATUS_CODES[status],
        )
        .map(([status]) => `${where} ${status}`),
    );
    expect(generic).toEqual([]);
  });

  test('every JSON response body with an example', () => {
    const missing = operations.flatMap(({ where, op }) =>
      Object.entries(op.responses)
        .filter(([, r]) => {
          const json = r.content?.['application/json'];
          return json !== undefined && json.example === undefined && json.examples === undefined;
        })
        .map(([status]) => `${where} ${status}`),
    );
    expect(missing).toEqual([]);
  });

  test('the challenge on every 401', () => {
    const unauthorized = operations.filter(({ op }) => op.responses['401'] !== undefined);
    expect(unauthorized.length).toBeGreaterThan(10);
    for (const { where, op } of unauthorized) {
      expect(op.responses['401'].headers?.['WWW-Authenticate']?.schema, where).toEqual({
        type: 'string',
        const: 'Bearer',
      });
    }
  });
});

describe('parameters', () => {
  const parameters = operations.flatMap(({ where, op }) =>
    ((op as { parameters?: Parameter[] }).parameters ?? []).map((p) => ({ where: `${where} ${p.name}`, p })),
  );

  // Swagger UI sends a parameter's example, examples or default as the value of "Try it out": an
  // upload's example dtype once stored a CSV as float32.
  test('give Swagger UI nothing to fill in and send', () => {
    const filled = parameters
      .filter(
        ({ p }) => p.example !== undefined || p.examples !== undefined || p.schema?.default !== undefined,
      )
      .map(({ where }) => where);
    expect(filled).toEqual([]);
  });

  test('still show their examples, inside the schema', () => {
    const shown = Object.fromEntries(
      parameters
        .filter(({ p }) => p.schema?.examples !== undefined)
        .map(({ where, p }) => [where, p.schema?.examples]),
    );
    expect(shown).toMatchObject({
      'post /v1/datasets dtype': ['float32'],
      'post /v1/datasets shape': ['1000,128'],
    });
  });
});
