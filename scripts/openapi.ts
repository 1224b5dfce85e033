/**
 * Writes openapi.yaml from the route schemas: `npm run openapi`. With `--check` it writes nothing and
 * exits 1 if the committed file differs from what the routes generate.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const target = new URL('../openapi.yaml', import.meta.url);
const check = process.argv.includes('--check');

// The document depends on the routes only; a small fixed config keeps the run light on any machine.
const config = { ...loadConfig({}), logLevel: 'silent' as const, threads: 1, memoryLimit: 2 ** 26 };
const app = await buildApp(config, { logger: false });
try {
  await app.ready();
  const generated = app.swagger({ yaml: true });
  if (check) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== generated) {
      process.stderr.write('openapi.yaml is out of date: run `npm run openapi` and commit the result\n');
      process.exitCode = 1;
    }
  } else {
    await writeFile(target, generated);
    process.stdout.write(`wrote ${target.pathname}\n`);
  }
} finally {
  await app.close();
}
