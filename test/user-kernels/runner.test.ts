import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildExample, compileAssemblyScript } from '../../scripts/kernels.js';
import {
  BLOCK_INPUT_BYTES,
  KernelRowsTooLong,
  kernelBuffers,
  MAX_BLOCK_ROWS,
} from '../../src/user-kernels/blocks.js';
import { KernelFault } from '../../src/user-kernels/errors.js';
import {
  cachedKernelIds,
  dropAllKernelInstances,
  dropKernelInstance,
  kernelInstance,
} from '../../src/user-kernels/instances.js';
import type { KernelRef } from '../../src/user-kernels/runner.js';
import { checkKernelModule } from '../../src/user-kernels/validate.js';
import { buildKernel, FAULTS, type KernelParts, ROW_INDEX_BODY } from './wat-modules.js';

const CAP = 256 * 1024 * 1024;

function refOf(id: string, bytes: Uint8Array): KernelRef {
  const { module, memory } = checkKernelModule(bytes);
  return { id, name: id, module, memory };
}

async function watRef(id: string, parts: KernelParts): Promise<KernelRef> {
  return refOf(id, await buildKernel(parts));
}

/** Runs `kernel` over every row of `data` a block at a time, as a worker does, and returns the results. */
function runAll(kernel: KernelRef, data: Float64Array, rowLength: number, args: number[] = []): Float64Array {
  const rows = data.length / rowLength;
  const out = new Float64Array(rows);
  const argv = Float64Array.from(args);
  const instance = kernelInstance(kernel, rowLength, argv.length, CAP);
  const step = instance.blockRows(rowLength);
  for (let r = 0; r < rows; r += step) {
    const count = Math.min(step, rows - r);
    instance.runBlock(data, r * rowLength, count, rowLength, r, argv, out, r);
  }
  return out;
}

function randomRows(rows: number, rowLength: number, seed = 1): Float64Array {
  const data = new Float64Array(rows * rowLength);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    data[i] = state / 2147483648 - 0.5;
  }
  return data;
}

function faultOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KernelFault);
    return (error as Error).message;
  }
  throw new Error('no fault');
}

afterEach(() => dropAllKernelInstances());

describe('the example kernels run on real rows', () => {
  let longestRun: KernelRef;
  let rowSum: KernelRef;
  let countAbove: KernelRef;
  beforeAll(async () => {
    longestRun = refOf('longest-run', await buildExample('longest-run.ts'));
    rowSum = refOf('row-sum', await buildExample('row-sum.ts'));
    countAbove = refOf('count-above', await buildExample('count-above.wat'));
  });

  it('longest-run gives the longest strictly increasing run of each row', () => {
    const fixed = Float64Array.from([
      1, 2, 0, 3, 4, 5, /**/ 5, 5, 5, 5, 5, 5, /**/ 6, 5, 4, 3, 2, 1, /**/ 0, 1, 2, 3, 4, 5,
    ]);
    expect([...runAll(longestRun, fixed, 6)]).toEqual([4, 1, 1, 6]);
    expect([...runAll(longestRun, Float64Array.of(1, Number.NaN, 2, 3), 4)]).toEqual([2]);

    const rowLength = 50;
    const data = randomRows(30_000, rowLength);
    const expected = new Float64Array(30_000);
    for (let r = 0; r < 30_000; r++) {
      let best = 1;
      let run = 1;
      for (let i = 1; i < rowLength; i++) {
        run = data[r * rowLength + i] > data[r * rowLength + i - 1] ? run + 1 : 1;
        best = Math.max(best, run);
      }
      expected[r] = best;
    }
    // 30000 rows of 400 bytes are several blocks: the block seams must not show.
    expect(kernelInstance(longestRun, rowLength, 0, CAP).blockRows(rowLength)).toBe(2621);
    expect(runAll(longestRun, data, rowLength)).toEqual(expected);
  });

  it('row-sum adds each row in four running sums, bit for bit', () => {
    const rowLength = 1003;
    const data = randomRows(2000, rowLength, 7);
    const expected = new Float64Array(2000);
    for (let r = 0; r < 2000; r++) {
      const s = [0, 0, 0, 0];
      const row = r * rowLength;
      const groups = rowLength - (rowLength % 4);
      for (let i = 0; i < groups; i++) s[i % 4] += data[row + i];
      let sum = s[0] + s[1] + (s[2] + s[3]);
      for (let i = groups; i < rowLength; i++) sum += data[row + i];
      expected[r] = sum;
    }
    expect(runAll(rowSum, data, rowLength)).toEqual(expected);
    expect([...runAll(rowSum, Float64Array.of(1e16, 1, -1e16, 1, 2, 3, 0.5), 7)]).toEqual([5.5]);
  });

  it('a row longer than a block gets an instance with a buffer its size', () => {
    const rowLength = BLOCK_INPUT_BYTES / 8 + 1000;
    const data = new Float64Array(3 * rowLength).fill(0.5);
    expect([...runAll(rowSum, data, rowLength)]).toEqual([rowLength / 2, rowLength / 2, rowLength / 2]);
    expect(kernelInstance(rowSum, rowLength, 0, CAP).buffers.inputBytes).toBe(rowLength * 8);
  });

  it('count-above reads args[0], and 0 without args', () => {
    const data = Float64Array.of(-1, 0, 0.5, 2, /**/ 3, 4, 5, 6);
    expect([...runAll(countAbove, data, 4, [0.25])]).toEqual([2, 4]);
    expect([...runAll(countAbove, data, 4, [4.5])]).toEqual([0, 2]);
    expect([...runAll(countAbove, data, 4)]).toEqual([2, 4]);
  });
});

describe('KernelInstance.runBlock', () => {
  it('passes firstRow, args and the block, and writes from slot on', async () => {
    const instance = kernelInstance(await watRef('row-index', { rows: ROW_INDEX_BODY }), 3, 1, CAP);
    const src = Float64Array.of(9, 9, 9, /**/ 1, 0, 0, /**/ 2, 0, 0, /**/ 3, 0, 0);
    const out = new Float64Array(6).fill(-1);
    instance.runBlock(src, 3, 3, 3, 100, Float64Array.of(10), out, 2);
    expect([...out]).toEqual([-1, -1, 110, 121, 132, -1]);
  });

  it('reads the outputs after the kernel grows its memory', async () => {
    const instance = kernelInstance(
      await watRef('grows', { rows: `(drop (memory.grow (i32.const 1))) ${ROW_INDEX_BODY}` }),
      1,
      1,
      CAP,
    );
    const out = new Float64Array(2);
    instance.runBlock(Float64Array.of(1, 2), 0, 2, 1, 0, Float64Array.of(1), out, 0);
    instance.runBlock(Float64Array.of(1, 2), 0, 2, 1, 5, Float64Array.of(2), out, 0);
    expect([...out]).toEqual([7, 10]);
  });

  it('memory.grow past the cap returns -1 to the kernel and is no fault', async () => {
    const instance = kernelInstance(await watRef('greedy', FAULTS.growPastCap), 1, 0, CAP);
    const out = new Float64Array(1);
    instance.runBlock(Float64Array.of(1), 0, 1, 1, 0, new Float64Array(0), out, 0);
    expect(out[0]).toBe(-1);
  });

  it('refuses a block larger than its buffers', async () => {
    const instance = kernelInstance(await watRef('plain', {}), 10, 0, CAP);
    const n = 10;
    const count = instance.blockRows(n) + 1;
    expect(() =>
      instance.runBlock(
        new Float64Array(count * n),
        0,
        count,
        n,
        0,
        new Float64Array(0),
        new Float64Array(count),
        0,
      ),
    ).toThrow(RangeError);
  });
});

describe('kernel faults', () => {
  const ones = new Float64Array(48).fill(1);

  async function faultOfBlock(id: string, parts: KernelParts): Promise<string> {
    const kernel = await watRef(id, parts);
    const instance = kernelInstance(kernel, 4, 0, CAP);
    const message = faultOf(() =>
      instance.runBlock(ones, 8, 10, 4, 2, new Float64Array(0), new Float64Array(10), 0),
    );
    // The faulted instance is dropped, and the next use makes a new one.
    expect(cachedKernelIds()).not.toContain(id);
    expect(
      faultOf(() => instance.runBlock(ones, 0, 1, 4, 0, new Float64Array(0), new Float64Array(1), 0)),
    ).toBe(`kernel "${id}" (${id}) was dropped after a fault`);
    expect(kernelInstance(kernel, 4, 0, CAP) === instance).toBe(false);
    return message;
  }

  it.each([
    ['unreachable', FAULTS.unreachable, 'trapped: unreachable on rows 2-11'],
    ['out-of-bounds', FAULTS.outOfBounds, 'trapped: memory access out of bounds on rows 2-11'],
    ['divide-by-zero', FAULTS.divideByZero, 'trapped: divide by zero on rows 2-11'],
    ['stack-overflow', FAULTS.stackOverflow, 'trapped: stack overflow on rows 2-11'],
    ['abort', FAULTS.abort, 'aborted: "row is bad" at kernel.ts:12:5 on rows 2-11'],
    ['error-code', FAULTS.errorCode, 'returned error code 42 on rows 2-11'],
  ] as const)('%s fails with the kernel, the fault and the rows', async (id, parts, what) => {
    expect(await faultOfBlock(id, parts)).toBe(`kernel "${id}" (${id}) ${what}`);
  });

  it('abort from real AssemblyScript code gives its message, file, line and column', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rowpool-as-'));
    try {
      const file = join(dir, 'picky.ts');
      await writeFile(
        file,
        [
          'export const rowpool_abi: i32 = 1;',
          'export function rowpool_alloc(bytes: i32): i32 { return <i32>heap.alloc(<usize>bytes); }',
          'export function rowpool_rows(input: i32, rows: i32, n: i32, firstRow: i32, args: i32, nArgs: i32, output: i32): i32 {',
          '  if (firstRow >= 10) throw new Error("row " + firstRow.toString() + " is bad");',
          '  return 0;',
          '}',
        ].join('\n'),
      );
      const instance = kernelInstance(refOf('picky', await compileAssemblyScript(file)), 4, 0, CAP);
      const out = new Float64Array(2);
      instance.runBlock(ones, 0, 2, 4, 8, new Float64Array(0), out, 0);
      expect(faultOf(() => instance.runBlock(ones, 0, 2, 4, 10, new Float64Array(0), out, 0))).toMatch(
        /^kernel "picky" \(picky\) aborted: "row 10 is bad" at \S*picky\.ts:4:23 on rows 10-11$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a trap in the start function', async () => {
    const kernel = await watRef('bad-start', { extra: '(func $start unreachable) (start $start)' });
    expect(faultOf(() => kernelInstance(kernel, 4, 0, CAP))).toBe(
      'kernel "bad-start" (bad-start) failed to start: trapped: unreachable',
    );
    expect(cachedKernelIds()).toEqual([]);
  });

  it('a module needing more memory than a cap lowered since its upload', async () => {
    const kernel = await watRef('big', { memory: '(import "env" "memory" (memory 40))' });
    expect(faultOf(() => kernelInstance(kernel, 4, 0, 32 * 65536))).toBe(
      'kernel "big" (big) failed to start: it needs 40 pages of memory, more than its cap of 32 pages (ROWPOOL_KERNEL_MEMORY)',
    );
  });

  it('an allocator that cannot get the buffers (memory capped by the module itself)', async () => {
    const kernel = await watRef('small', { memory: '(import "env" "memory" (memory 1 1))' });
    expect(faultOf(() => kernelInstance(kernel, 4, 0, CAP))).toBe(
      `kernel "small" (small) trapped: unreachable in rowpool_alloc(${BLOCK_INPUT_BYTES})`,
    );
  });

  it('an allocator that returns a pointer outside the memory', async () => {
    const kernel = await watRef('liar', {
      alloc: '(func (export "rowpool_alloc") (param i32) (result i32) (i32.const -16))',
    });
    expect(faultOf(() => kernelInstance(kernel, 4, 0, CAP))).toBe(
      `kernel "liar" (liar) rowpool_alloc(${BLOCK_INPUT_BYTES}) returned 4294967280, which does not leave ${BLOCK_INPUT_BYTES} bytes inside its 65536-byte memory`,
    );
  });

  it('an allocator that grows past the cap traps in it', async () => {
    const kernel = await watRef('capped', {});
    expect(faultOf(() => kernelInstance(kernel, 4, 0, 512 * 1024))).toBe(
      `kernel "capped" (capped) trapped: unreachable in rowpool_alloc(${BLOCK_INPUT_BYTES})`,
    );
  });
});

describe('instances per thread', () => {
  it('one instance per kernel id, replaced only when rows or args outgrow it', async () => {
    const kernel = await watRef('cached', { rows: ROW_INDEX_BODY });
    const first = kernelInstance(kernel, 100, 2, CAP);
    expect(kernelInstance(kernel, 1000, 16, CAP) === first).toBe(true);
    const wider = kernelInstance(kernel, 100, 17, CAP);
    expect(wider === first).toBe(false);
    expect(wider.buffers).toEqual({
      inputBytes: BLOCK_INPUT_BYTES,
      argsBytes: 17 * 8,
      outputBytes: MAX_BLOCK_ROWS * 8,
    });
    expect(cachedKernelIds()).toEqual(['cached']);
    dropKernelInstance('cached');
    expect(cachedKernelIds()).toEqual([]);
    const fresh = kernelInstance(kernel, 100, 2, CAP);
    expect(fresh === wider).toBe(false);
  });

  it('rows that cannot fit in the memory cap are a clear 400', () => {
    let error: unknown;
    try {
      kernelBuffers(100_000, 0, 1024 * 1024);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KernelRowsTooLong);
    expect((error as KernelRowsTooLong).statusCode).toBe(400);
    expect((error as Error).message).toBe(
      "rows of 100000 values and 0 args take 0.76 MiB as float64, more than half of a kernel's memory (ROWPOOL_KERNEL_MEMORY is 1 MiB)",
    );
    expect(kernelBuffers(65_536, 0, 1024 * 1024).inputBytes).toBe(BLOCK_INPUT_BYTES);
  });
});
