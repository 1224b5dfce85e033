import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { clientTypes, specFile, typesFile } from '../../scripts/client-types.js';

test('src/client/openapi.ts is what openapi-typescript makes from openapi.yaml (npm run client:types)', async () => {
  const generated = await clientTypes(await readFile(specFile, 'utf8'));
  const committed = await readFile(typesFile, 'utf8');
  expect(committed).toBe(generated);
}, 60_000);
