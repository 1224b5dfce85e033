import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Reads src/ as text, for tests of how the code is laid out rather than what it does. */

export const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every .ts file under a directory, as paths relative to it. */
export function tsFiles(dir: string = SRC): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split('\\').join('/'))
    .sort();
}

// `import … from '…'`, `import type …`, `export … from '…'`, bare `import '…'` and `import('…')`.
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative module specifiers a source text imports or re-exports, type-only ones included. */
export function specifiers(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2]).filter((s) => s.startsWith('.'));
}

/** `./b.js` imported from `a/x.ts` -> `a/b.ts`; undefined for a file that is not under src/. */
export function resolveImport(
  from: string,
  specifier: string,
  files: ReadonlySet<string>,
): string | undefined {
  const absolute = resolve(dirname(join(SRC, from)), specifier);
  const base = relative(SRC, absolute).split('\\').join('/');
  const stem = base.replace(/\.(?:js|ts)$/, '');
  return [`${stem}.ts`, `${stem}/index.ts`].find((candidate) => files.has(candidate));
}

/** Each file's imports within src/, resolved to files. */
export function importGraph(): Map<string, string[]> {
  const files = tsFiles();
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const source = readFileSync(join(SRC, file), 'utf8');
      const targets = specifiers(source)
        .map((s) => resolveImport(file, s, known))
        .filter((t): t is string => t !== undefined);
      return [file, [...new Set(targets)]];
    }),
  );
}

/** Every cycle a depth-first search meets, each as the path that closes it (first file repeated). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (node: string) => {
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (onStack.has(next)) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!done.has(next)) visit(next);
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node);
  return cycles;
}

const IMPORTS = /^(?:import|export)\b[^;]*?from\s*['"][^'"]+['"];?|^import\s*['"][^'"]+['"];?/gm;

/** A file's module comment: the first comment before any code, above or just below its imports. */
export function openingComment(source: string): string {
  const text = source
    .replace(/^#!.*\n/, '')
    .replace(IMPORTS, '')
    .trimStart();
  const block = /^\/\*[\s\S]*?\*\//.exec(text);
  if (block) return block[0];
  const lines = /^(?:\/\/.*\n?)+/.exec(text);
  return lines ? lines[0] : '';
}
