/**
 * The README's op table, made from the registry so the two cannot disagree: `npm run readme:ops`
 * writes it between the README's markers, and a test fails when the committed table differs.
 */
import type { OpDefinition } from './op.js';

export const TABLE_START = '<!-- ops: made by npm run readme:ops -->';
export const TABLE_END = '<!-- /ops -->';

function paramText(op: OpDefinition): string {
  const required = new Set((op.params as { required?: string[] }).required ?? []);
  return Object.entries(op.params.properties)
    .map(([key, schema]) => {
      const { default: fallback } = schema as { default?: unknown };
      const note = required.has(key)
        ? 'required'
        : fallback === undefined
          ? 'optional'
          : `default ${JSON.stringify(fallback)}`;
      return `\`${key}\` (${note})`;
    })
    .join(', ');
}

export function opsTable(ops: readonly OpDefinition[]): string {
  const rows = ops.map(
    (op) =>
      `| \`${op.name}\` | ${paramText(op)} | ${op.summary}${op.result === 'int64' ? ' (int64)' : ''} | \`${op.numpy.replaceAll('|', '\\|')}\` |`,
  );
  return [
    TABLE_START,
    '| op | params | what it computes for row x | NumPy |',
    '|---|---|---|---|',
    ...rows,
    TABLE_END,
  ].join('\n');
}

/** The README text with its op table replaced by `table`. */
export function withOpsTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} … ${TABLE_END} block`);
  return readme.slice(0, start) + table + readme.slice(end + TABLE_END.length);
}
