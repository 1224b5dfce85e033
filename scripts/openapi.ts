import { writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

// Only the route schemas matter here: a small fixed config keeps the output the same on every machine.
const config = { ...loadConfig({}), logLevel: 'silent' as const, threads: 1, memoryLimit: 2 ** 26 };
const app = await buildApp(config, { logger: false });
try {
  await app.ready();
  const target = new URL('../openapi.yaml', import.meta.url);
  await writeFile(target, app.swagger({ yaml: true }));
  process.stdout.write(`wrote ${target.pathname}\n`);
} finally {
  await app.close();
}
