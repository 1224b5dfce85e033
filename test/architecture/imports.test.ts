import { describe, expect, test } from 'vitest';
import { findCycles, importGraph, resolveImport, specifiers } from './source.js';

describe('imports in src/', () => {
  test('form no circle, type-only imports included', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(findCycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });
});

describe('the import reader', () => {
  test('reads every form of import and re-export, and skips packages and comments', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {\n  c,\n  type C,\n} from "./c/index.js";',
      "export { d } from './d.js';",
      "export * from './e.js';",
      "export type { F } from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "import fastify from 'fastify';",
      "// import { x } from './commented.js';",
      "/* import { y } from './also-commented.js'; */",
    ].join('\n');
    expect(specifiers(source)).toEqual([
      './a.js',
      '../b.js',
      './c/index.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
    ]);
  });

  test('resolves .js specifiers to the .ts files under src/', () => {
    const files = new Set(['jobs/engine.ts', 'ops/registry.ts', 'expr/index.ts']);
    expect(resolveImport('jobs/engine.ts', '../ops/registry.js', files)).toBe('ops/registry.ts');
    expect(resolveImport('jobs/engine.ts', '../expr/index.js', files)).toBe('expr/index.ts');
    expect(resolveImport('jobs/engine.ts', '../../package.json', files)).toBeUndefined();
  });

  test('finds a circle and names its files in order', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(
      findCycles(
        new Map([
          ['a.ts', ['d.ts']],
          ['d.ts', []],
        ]),
      ),
    ).toEqual([]);
  });
});
