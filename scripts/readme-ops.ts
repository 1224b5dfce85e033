import { readFileSync, writeFileSync } from 'node:fs';
import { opsTable, withOpsTable } from '../src/ops/readme-table.js';
import { allOps } from '../src/ops/registry.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withOpsTable(readFileSync(path, 'utf8'), opsTable(allOps())));
console.log(`wrote the op table of ${path.pathname}`);
