import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  BINARY_MODULE_FILE,
  generateSimdBinaryModule,
  generateSimdWat,
  WAT_FILE,
} from '../../scripts/wasm.js';
import {
  dotInLanes,
  pairwiseSum,
  pairwiseSumAbs,
  pairwiseSumSquaredDeviations,
  pairwiseSumSquaredDifferences,
  pairwiseSumSquares,
} from '../../src/jobs/kernels/pairwise.js';
import { type SimdKernels, simdKernels } from '../../src/jobs/kernels/simd.js';
import { mulberry32 } from '../helpers/random.js';

const PAGE = 65536;

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

type Fill = (rng: () => number) => number;

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0];

/** Value generators: rounding-order sensitive data, extreme magnitudes, IEEE special values, zeros. */
const KINDS: Readonly<Record<string, Fill>> = {
  normal: (rng) => gaussian(rng) * 10 ** (rng() * 6 - 3),
  wide: (rng) => gaussian(rng) * 10 ** (rng() * 600 - 300),
  special: (rng) =>
    rng() < 0.004 ? SPECIALS[Math.floor(rng() * SPECIALS.length)] : gaussian(rng) * 10 ** (rng() * 8 - 4),
  negativeZeros: () => -0,
  signedZeros: (rng) => (rng() < 0.5 ? -0 : 0),
};

const MAX_N = 131072;
const lengthRng = mulberry32(7);
const LENGTHS: readonly number[] = [
  ...Array.from({ length: 301 }, (_, n) => n),
  1000,
  1023,
  4097,
  MAX_N,
  ...Array.from({ length: 16 }, () => 301 + Math.floor(lengthRng() * (20000 - 301))),
];

/** Room before and after each run so its start can move around (and across 16-byte alignment). */
const SLACK = 1024;
/** Element offsets of the two operand regions; both even, so an even start is 16-byte aligned. */
const A_BASE = 128;
const B_BASE = A_BASE + MAX_N + 2 * SLACK;
const memory = new WebAssembly.Memory({
  initial: Math.ceil(((B_BASE + MAX_N + 2 * SLACK) * 8) / PAGE),
  maximum: 1024,
  shared: true,
});
const f64 = new Float64Array(memory.buffer);
const kernels = simdKernels(memory);

function fill(kind: Fill, seed: number): void {
  const rng = mulberry32(seed);
  for (let i = A_BASE; i < B_BASE + MAX_N + 2 * SLACK; i++) f64[i] = kind(rng);
}

function show(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** Compares bit for bit (NaN payloads aside) and records a description of any difference. */
function compare(out: string[], label: string, got: number, want: number): void {
  if (!Object.is(got, want)) out.push(`${label}: got ${show(got)}, want ${show(want)}`);
}

/** Element index of a run in a region: a random start that is 16-byte aligned or 8 past that. */
function start(base: number, rng: () => number, odd: boolean): number {
  return base + 2 * Math.floor(rng() * (SLACK / 2)) + (odd ? 1 : 0);
}

function meanOf(off: number, n: number): number {
  return n === 0 ? 0 : pairwiseSum(f64, off, n) / n;
}

/** Runs every one-operand kernel against its JS twin over all lengths at one alignment. */
function checkOneOperand(k: SimdKernels, out: string[], kind: string, odd: boolean, seed: number): number {
  const rng = mulberry32(seed);
  let compared = 0;
  for (const n of LENGTHS) {
    const off = start(A_BASE, rng, odd);
    const p = off * 8;
    const label = `${kind} n=${n} off=${off}`;
    compare(out, `sum ${label}`, k.sum(p, n), pairwiseSum(f64, off, n));
    compare(out, `sumSquares ${label}`, k.sumSquares(p, n), pairwiseSumSquares(f64, off, n));
    compare(out, `sumAbs ${label}`, k.sumAbs(p, n), pairwiseSumAbs(f64, off, n));
    for (const mean of [meanOf(off, n), 0.75, -3e5]) {
      compare(
        out,
        `sumSquaredDeviations mean=${mean} ${label}`,
        k.sumSquaredDeviations(p, n, mean),
        pairwiseSumSquaredDeviations(f64, off, n, mean),
      );
    }
    compared += 6;
  }
  return compared;
}

/** Runs the two-operand kernels over all lengths with each operand at the given alignment. */
function checkTwoOperands(
  k: SimdKernels,
  out: string[],
  kind: string,
  oddA: boolean,
  oddB: boolean,
  seed: number,
): number {
  const rng = mulberry32(seed);
  let compared = 0;
  for (const n of LENGTHS) {
    const off = start(A_BASE, rng, oddA);
    const voff = start(B_BASE, rng, oddB);
    const label = `${kind} n=${n} off=${off} voff=${voff}`;
    compare(
      out,
      `sumSquaredDifferences ${label}`,
      k.sumSquaredDifferences(off * 8, voff * 8, n),
      pairwiseSumSquaredDifferences(f64, off, f64, voff, n),
    );
    compare(out, `dot ${label}`, k.dot(off * 8, voff * 8, n), dotInLanes(f64, off, f64, voff, n));
    compared += 2;
  }
  return compared;
}

/** The documented order of `dot`, written out independently of both implementations. */
function dotByDefinition(a: Float64Array, off: number, v: Float64Array, voff: number, n: number): number {
  const s = [0, 0, 0, 0, 0, 0, 0, 0];
  const whole = n - (n % 8);
  for (let i = 0; i < whole; i++) s[i % 8] += a[off + i] * v[voff + i];
  let total = s[0] + s[2] + (s[4] + s[6]) + (s[1] + s[3] + (s[5] + s[7]));
  for (let i = whole; i < n; i++) total += a[off + i] * v[voff + i];
  return total;
}

describe('wasm SIMD kernels', () => {
  const kindNames = Object.keys(KINDS);

  it.each(kindNames)(
    'sum, sumSquares, sumAbs and sumSquaredDeviations match pairwise.ts bit for bit on %s data',
    (kind) => {
      const seed = kindNames.indexOf(kind) + 1;
      fill(KINDS[kind], seed);
      const out: string[] = [];
      let compared = 0;
      for (const odd of [false, true])
        compared += checkOneOperand(kernels, out, kind, odd, seed * 10 + Number(odd));
      expect(out.slice(0, 10)).toEqual([]);
      expect(compared).toBe(LENGTHS.length * 6 * 2);
    },
  );

  it.each(kindNames)('sumSquaredDifferences and dot match their JS twins bit for bit on %s data', (kind) => {
    const seed = kindNames.indexOf(kind) + 100;
    fill(KINDS[kind], seed);
    const out: string[] = [];
    let compared = 0;
    for (const oddA of [false, true]) {
      for (const oddB of [false, true]) {
        compared += checkTwoOperands(
          kernels,
          out,
          kind,
          oddA,
          oddB,
          seed * 10 + 2 * Number(oddA) + Number(oddB),
        );
      }
    }
    expect(out.slice(0, 10)).toEqual([]);
    expect(compared).toBe(LENGTHS.length * 2 * 4);
  });

  it('is checked on data where the rounding order shows in the bits', () => {
    // Had the kernels summed in plain order, the bitwise comparisons above would have caught it:
    // on this data the in-order sum differs from the pairwise one for most lengths.
    fill(KINDS.normal, 1);
    let differs = 0;
    let tried = 0;
    for (let n = 9; n <= 300; n++) {
      let inOrder = 0;
      for (let i = 0; i < n; i++) inOrder += f64[A_BASE + i];
      tried++;
      if (!Object.is(inOrder, kernels.sum(A_BASE * 8, n))) differs++;
    }
    expect(differs).toBeGreaterThan(tried / 2);
  });

  it('keeps the signs of zeros exactly as the JS kernels do', () => {
    const off = A_BASE + 1;
    f64.fill(-0, off, off + 300);
    const p = off * 8;
    // Under 8 values NumPy starts from +0, so -0 sums to +0; from 8 on the accumulators start at
    // the first values and the sum stays -0.
    for (const [n, expected] of [
      [0, 0],
      [1, 0],
      [7, 0],
      [8, -0],
      [128, -0],
      [129, -0],
      [300, -0],
    ] as const) {
      expect(Object.is(pairwiseSum(f64, off, n), expected)).toBe(true);
      expect(Object.is(kernels.sum(p, n), expected), `sum n=${n}`).toBe(true);
      expect(Object.is(kernels.sumAbs(p, n), 0), `sumAbs n=${n}`).toBe(true);
    }
    // dot starts its accumulators at +0, like a plain loop.
    f64.fill(1, B_BASE, B_BASE + 300);
    for (const n of [1, 8, 9, 300])
      expect(Object.is(kernels.dot(p, B_BASE * 8, n), 0), `dot n=${n}`).toBe(true);
  });

  it('propagates NaN and infinities', () => {
    const off = A_BASE;
    const p = off * 8;
    for (const n of [5, 8, 100, 1000]) {
      f64.fill(1, off, off + n);
      f64[off + n - 1] = Number.POSITIVE_INFINITY;
      expect(kernels.sum(p, n)).toBe(Number.POSITIVE_INFINITY);
      expect(kernels.sumSquaredDeviations(p, n, 1)).toBe(Number.POSITIVE_INFINITY);
      f64[off] = Number.NEGATIVE_INFINITY;
      expect(kernels.sum(p, n)).toBeNaN();
      expect(kernels.sumAbs(p, n)).toBe(Number.POSITIVE_INFINITY);
      f64[off] = Number.NaN;
      expect(kernels.sumSquares(p, n)).toBeNaN();
    }
  });

  it('dot adds in the documented order, and agrees with a plain loop on benign data', () => {
    const rng = mulberry32(42);
    for (let i = A_BASE; i < B_BASE + MAX_N + 2 * SLACK; i++) f64[i] = 0.5 + rng();
    const out: string[] = [];
    for (const n of LENGTHS) {
      for (const [off, voff] of [
        [A_BASE, B_BASE],
        [A_BASE + 1, B_BASE + 2],
        [A_BASE + 3, B_BASE + 1],
      ]) {
        const expected = dotByDefinition(f64, off, f64, voff, n);
        compare(out, `dotInLanes n=${n} off=${off}`, dotInLanes(f64, off, f64, voff, n), expected);
        compare(out, `dot n=${n} off=${off}`, kernels.dot(off * 8, voff * 8, n), expected);
        let plain = 0;
        for (let i = 0; i < n; i++) plain += f64[off + i] * f64[voff + i];
        const got = kernels.dot(off * 8, voff * 8, n);
        if (Math.abs(got - plain) > 1e-12 * Math.abs(plain)) out.push(`dot n=${n}: ${got} vs plain ${plain}`);
      }
    }
    expect(out.slice(0, 10)).toEqual([]);
  });

  it('dotInLanes reads ordinary arrays at any offsets the same way', () => {
    const rng = mulberry32(5);
    const a = Float64Array.from({ length: 700 }, () => gaussian(rng));
    const v = Float64Array.from({ length: 700 }, () => gaussian(rng));
    f64.set(a, A_BASE + 1);
    f64.set(v, B_BASE);
    for (let n = 0; n <= 650; n += 13) {
      const got = dotInLanes(a, 3, v, 50, n);
      expect(Object.is(got, dotByDefinition(a, 3, v, 50, n)), `n=${n}`).toBe(true);
      expect(Object.is(got, kernels.dot((A_BASE + 4) * 8, (B_BASE + 50) * 8, n)), `n=${n}`).toBe(true);
    }
  });

  it('reads data past the first 64 KiB page, across page boundaries and up to the end of the memory', () => {
    const small = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const k = simdKernels(small);
    // The instance sees pages added after it was made; only the JS view has to be taken again.
    small.grow(3);
    const view = new Float64Array(small.buffer);
    const rng = mulberry32(9);
    for (let i = 0; i < view.length; i++) view[i] = gaussian(rng) * 10 ** (rng() * 4 - 2);
    const out: string[] = [];
    const last = view.length;
    for (let n = 0; n <= 300; n++) {
      for (const off of [PAGE / 8 + 1, (2 * PAGE) / 8 - 5, (3 * PAGE) / 8 - 150, last - n]) {
        const voff = (2 * PAGE) / 8 + 7;
        const p = off * 8;
        const label = `n=${n} off=${off}`;
        compare(out, `sum ${label}`, k.sum(p, n), pairwiseSum(view, off, n));
        compare(out, `sumSquares ${label}`, k.sumSquares(p, n), pairwiseSumSquares(view, off, n));
        compare(out, `sumAbs ${label}`, k.sumAbs(p, n), pairwiseSumAbs(view, off, n));
        compare(
          out,
          `sumSquaredDeviations ${label}`,
          k.sumSquaredDeviations(p, n, 0.25),
          pairwiseSumSquaredDeviations(view, off, n, 0.25),
        );
        compare(
          out,
          `sumSquaredDifferences ${label}`,
          k.sumSquaredDifferences(p, voff * 8, n),
          pairwiseSumSquaredDifferences(view, off, view, voff, n),
        );
        compare(out, `dot ${label}`, k.dot(p, voff * 8, n), dotInLanes(view, off, view, voff, n));
        // The same run with the operands swapped, so the second one also ends at the memory's end.
        compare(out, `dot swapped ${label}`, k.dot(voff * 8, p, n), dotInLanes(view, voff, view, off, n));
      }
    }
    expect(out.slice(0, 10)).toEqual([]);
    expect(() => k.sum(last * 8 - 8, 2)).toThrow(/out of bounds/);
  });

  it('gives each call a new instance bound to the memory it was given', () => {
    const one = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const two = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    new Float64Array(one.buffer).fill(1, 0, 100);
    new Float64Array(two.buffer).fill(2, 0, 100);
    const first = simdKernels(one);
    expect(simdKernels(one)).not.toBe(first);
    expect(first.sum(0, 100)).toBe(100);
    expect(simdKernels(two).sum(0, 100)).toBe(200);
  });
});

describe('simd.wat and simd-binary.ts', () => {
  it('simd.wat is what `npm run wasm` generates from its templates', async () => {
    expect(await readFile(WAT_FILE, 'utf8')).toBe(generateSimdWat());
  });

  it('simd-binary.ts is what `npm run wasm` generates from simd.wat', async () => {
    const committed = await readFile(BINARY_MODULE_FILE, 'utf8');
    expect(committed).toBe(await generateSimdBinaryModule());
  });
});
