import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { opsTable, TABLE_END, TABLE_START } from '../../src/ops/readme-table.js';
import { allOps } from '../../src/ops/registry.js';

describe("the README's op table", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const committed = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END) + TABLE_END.length);

  it('is the one the registry makes (npm run readme:ops remakes it)', () => {
    expect(committed).toBe(opsTable(allOps()));
  });

  it('has a row for every op with each of its params', () => {
    for (const op of allOps()) {
      const row = committed.split('\n').find((line) => line.startsWith(`| \`${op.name}\` |`));
      expect(row, op.name).toBeDefined();
      for (const key of Object.keys(op.params.properties)) expect(row).toContain(`\`${key}\``);
    }
  });
});
