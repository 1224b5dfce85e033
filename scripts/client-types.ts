/**
 * Writes src/client/openapi.ts, the client's types, from openapi.yaml: `npm run client:types`.
 * The client test regenerates them in memory and fails when the committed file differs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

export const specFile = new URL('../openapi.yaml', import.meta.url);
export const typesFile = new URL('../src/client/openapi.ts', import.meta.url);

/** The types module openapi-typescript makes from the given document. */
export async function clientTypes(spec: string): Promise<string> {
  const ast = await openapiTS(spec);
  // Kept as the generator writes it, so the drift test compares it byte for byte.
  return `// biome-ignore-all format: written by npm run client:types\n${COMMENT_HEADER}${astToString(ast)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(typesFile, await clientTypes(await readFile(specFile, 'utf8')));
  process.stdout.write(`wrote ${fileURLToPath(typesFile)}\n`);
}
