import { describe, expect, it } from 'vitest';
import { DTYPE_INFO, DTYPES, type DType } from '../../src/datasets/dtypes.js';
import { CONVERTERS, FLOAT16_TO_FLOAT64 } from '../../src/jobs/kernels/convert.js';
import {
  dotInLanes,
  pairwiseSum,
  pairwiseSumAbs,
  pairwiseSumSquaredDeviations,
  pairwiseSumSquaredDifferences,
  pairwiseSumSquares,
} from '../../src/jobs/kernels/pairwise.js';
import { type SimdKernels, simdKernelsFor } from '../../src/jobs/kernels/simd.js';
import { mulberry32 } from '../helpers/random.js';

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

const LENGTHS = [0, 1, 7, 8, 127, 128, 129, 1000, 4099, 9, 255, 300];
const ROWS_ELEMENTS = LENGTHS.reduce((a, b) => a + b, 0);
/** Byte offset of the rows region: not a multiple of 16, and every row after it starts elsewhere. */
const ROWS_BYTE = 1 << 16;
const Q_BYTE = 1 << 17;
const memory = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
const bytes = new Uint8Array(memory.buffer);
const f64 = new Float64Array(memory.buffer);

/** Writes `count` raw elements of `dtype` from byte `at`, each from `value(rng)` as that type holds it. */
type Filler = (view: DataView, at: number, rng: () => number) => void;

const float16Bits = (rng: () => number, special: number): number => {
  const sign = rng() < 0.5 ? 0x8000 : 0;
  const r = rng();
  if (r < special) return sign | 0x7c00 | (rng() < 0.5 ? 0 : 1 + Math.floor(rng() * 1023));
  // Subnormals (exponent 0) a third of the time, the rest spread over the finite exponents.
  const exponent = r < 0.33 ? 0 : 1 + Math.floor(rng() * 30);
  return sign | (exponent << 10) | Math.floor(rng() * 1024);
};

const INT64_HOSTILE = [
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  2n ** 53n + 3n,
  2n ** 54n + 2n,
  2n ** 62n + 2n ** 9n,
  2n ** 62n + 2n ** 9n + 1n,
  -1n,
  0n,
];
const UINT64_HOSTILE = [
  2n ** 64n - 1n,
  2n ** 63n,
  2n ** 63n + 2n ** 10n,
  2n ** 53n + 1n,
  2n ** 64n - 2n ** 11n,
  0n,
  1n,
];

function randomBigInt(rng: () => number): bigint {
  return (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
}

function pick<T>(rng: () => number, values: readonly T[]): T {
  return values[Math.floor(rng() * values.length)];
}

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0];

/** Per dtype: rounding-order sensitive random data, and data full of the values that break casts. */
const FILLERS: Readonly<Record<DType, { random: Filler; hostile: Filler }>> = {
  float64: {
    random: (v, at, rng) => v.setFloat64(at, gaussian(rng) * 10 ** (rng() * 8 - 4), true),
    hostile: (v, at, rng) =>
      v.setFloat64(at, rng() < 0.01 ? pick(rng, SPECIAL) : gaussian(rng) * 10 ** (rng() * 600 - 300), true),
  },
  float32: {
    random: (v, at, rng) => v.setFloat32(at, gaussian(rng) * 10 ** (rng() * 8 - 4), true),
    hostile: (v, at, rng) =>
      v.setFloat32(at, rng() < 0.01 ? pick(rng, SPECIAL) : gaussian(rng) * 10 ** (rng() * 76 - 38), true),
  },
  float16: {
    random: (v, at, rng) => v.setUint16(at, float16Bits(rng, 0), true),
    hostile: (v, at, rng) => v.setUint16(at, float16Bits(rng, 0.004), true),
  },
  int8: {
    random: (v, at, rng) => v.setInt8(at, Math.floor(rng() * 256) - 128),
    hostile: (v, at, rng) => v.setInt8(at, pick(rng, [-128, 127, -1, 0, 1])),
  },
  uint8: {
    random: (v, at, rng) => v.setUint8(at, Math.floor(rng() * 256)),
    hostile: (v, at, rng) => v.setUint8(at, pick(rng, [255, 0, 1, 128])),
  },
  int16: {
    random: (v, at, rng) => v.setInt16(at, Math.floor(rng() * 65536) - 32768, true),
    hostile: (v, at, rng) => v.setInt16(at, pick(rng, [-32768, 32767, -1, 0]), true),
  },
  uint16: {
    random: (v, at, rng) => v.setUint16(at, Math.floor(rng() * 65536), true),
    hostile: (v, at, rng) => v.setUint16(at, pick(rng, [65535, 0, 32768, 1]), true),
  },
  int32: {
    random: (v, at, rng) => v.setInt32(at, Math.floor(rng() * 2 ** 32) - 2 ** 31, true),
    hostile: (v, at, rng) => v.setInt32(at, pick(rng, [-(2 ** 31), 2 ** 31 - 1, -1, 0]), true),
  },
  uint32: {
    random: (v, at, rng) => v.setUint32(at, Math.floor(rng() * 2 ** 32), true),
    hostile: (v, at, rng) => v.setUint32(at, pick(rng, [2 ** 32 - 1, 2 ** 31, 0, 1]), true),
  },
  int64: {
    random: (v, at, rng) => v.setBigInt64(at, BigInt.asIntN(64, randomBigInt(rng)), true),
    hostile: (v, at, rng) => v.setBigInt64(at, pick(rng, INT64_HOSTILE), true),
  },
  uint64: {
    random: (v, at, rng) => v.setBigUint64(at, randomBigInt(rng), true),
    hostile: (v, at, rng) => v.setBigUint64(at, pick(rng, UINT64_HOSTILE), true),
  },
  bool: {
    // Any nonzero byte is True, not only 1.
    random: (v, at, rng) => v.setUint8(at, rng() < 0.5 ? 0 : 1),
    hostile: (v, at, rng) => v.setUint8(at, rng() < 0.5 ? 0 : Math.floor(rng() * 256)),
  },
};

/** The `n` elements of `dtype` from byte `at`, as `astype(float64)` gives them, via convert.ts. */
function converted(dtype: DType, at: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (dtype === 'float64') out.set(new Float64Array(memory.buffer, at, n));
  else {
    const converter = CONVERTERS[dtype];
    converter.convert(converter.view(memory.buffer, at, n), 0, n, out);
  }
  return out;
}

function show(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

function compare(out: string[], label: string, got: number, want: number): void {
  if (!Object.is(got, want)) out.push(`${label}: got ${show(got)}, want ${show(want)}`);
}

function fillRows(dtype: DType, kind: 'random' | 'hostile', seed: number, elements: number): void {
  const rng = mulberry32(seed);
  const view = new DataView(memory.buffer);
  const size = DTYPE_INFO[dtype].itemsize;
  for (let i = 0; i < elements + 16; i++) FILLERS[dtype][kind](view, ROWS_BYTE + i * size, rng);
}

function fillQueries(kind: 'random' | 'hostile', seed: number, values: number): void {
  const rng = mulberry32(seed);
  for (let i = 0; i < values + 16; i++) {
    f64[Q_BYTE / 8 + i] =
      kind === 'hostile' && rng() < 0.005 ? pick(rng, SPECIAL) : gaussian(rng) * 10 ** (rng() * 6 - 3);
  }
}

/** Every kernel on every row of LENGTHS packed back to back from element `first`. */
function checkRows(k: SimdKernels, dtype: DType, kind: string, first: number, qShift: number): string[] {
  const size = DTYPE_INFO[dtype].itemsize;
  const out: string[] = [];
  let at = ROWS_BYTE + first * size;
  for (const n of LENGTHS) {
    const a = converted(dtype, at, n);
    const q = Q_BYTE + qShift * 8;
    const label = `${dtype} ${kind} n=${n} at=${at}`;
    compare(out, `sum ${label}`, k.sum(at, n), pairwiseSum(a, 0, n));
    compare(out, `sumSquares ${label}`, k.sumSquares(at, n), pairwiseSumSquares(a, 0, n));
    compare(out, `sumAbs ${label}`, k.sumAbs(at, n), pairwiseSumAbs(a, 0, n));
    const mean = n === 0 ? 0 : pairwiseSum(a, 0, n) / n;
    for (const m of [mean, 0.75]) {
      compare(
        out,
        `sumSquaredDeviations mean=${m} ${label}`,
        k.sumSquaredDeviations(at, n, m),
        pairwiseSumSquaredDeviations(a, 0, n, m),
      );
    }
    compare(
      out,
      `sumSquaredDifferences ${label}`,
      k.sumSquaredDifferences(at, q, n),
      pairwiseSumSquaredDifferences(a, 0, f64, q / 8, n),
    );
    compare(out, `dot ${label}`, k.dot(at, q, n), dotInLanes(a, 0, f64, q / 8, n));
    at += n * size;
  }
  return out;
}

describe.each(DTYPES)('SIMD kernels on %s rows', (dtype) => {
  const k = simdKernelsFor(memory, dtype);

  it.each(['random', 'hostile'] as const)(
    'match the JS pairwise kernels and dotInLanes on the float64-converted %s rows, bit for bit',
    (kind) => {
      const seed = DTYPES.indexOf(dtype) * 2 + (kind === 'hostile' ? 1 : 0) + 1;
      fillRows(dtype, kind, seed, ROWS_ELEMENTS + 8);
      fillQueries(kind, seed + 1000, 4200);
      const out: string[] = [];
      // Rows start at every offset modulo 16 bytes, queries 16-byte aligned or 8 past that.
      for (const first of [0, 1, 3, 6])
        for (const qShift of [0, 1]) out.push(...checkRows(k, dtype, kind, first, qShift));
      expect(out.slice(0, 10)).toEqual([]);
    },
  );

  it('dotMany gives every row-query dot exactly as dot does, whichever group of queries scores it', () => {
    const size = DTYPE_INFO[dtype].itemsize;
    const seed = DTYPES.indexOf(dtype) + 500;
    fillQueries('random', seed, 7 * 300);
    const outByte = 3 << 16;
    const out: string[] = [];
    for (const n of [0, 1, 7, 8, 129, 300]) {
      // Queries go in groups, the last of them smaller when the count does not divide evenly.
      for (const [rows, nq] of [
        [5, 3],
        [1, 1],
        [3, 4],
        [2, 2],
        [4, 7],
      ]) {
        fillRows(dtype, 'random', seed + n, rows * n);
        const p = ROWS_BYTE + size;
        f64.fill(Number.NaN, outByte / 8, outByte / 8 + rows * nq + 1);
        k.dotMany(p, rows, n, Q_BYTE, nq, outByte);
        for (let r = 0; r < rows; r++) {
          const a = converted(dtype, p + r * n * size, n);
          for (let j = 0; j < nq; j++) {
            compare(
              out,
              `dotMany n=${n} rows=${rows} nq=${nq} row ${r} query ${j}`,
              f64[outByte / 8 + r * nq + j],
              dotInLanes(a, 0, f64, Q_BYTE / 8 + j * n, n),
            );
          }
        }
        // Nothing past the last result is written.
        expect(f64[outByte / 8 + rows * nq]).toBeNaN();
      }
    }
    f64.fill(7, outByte / 8, outByte / 8 + 4);
    k.dotMany(ROWS_BYTE, 0, 8, Q_BYTE, 3, outByte);
    k.dotMany(ROWS_BYTE, 3, 8, Q_BYTE, 0, outByte);
    expect(Array.from(f64.subarray(outByte / 8, outByte / 8 + 4))).toEqual([7, 7, 7, 7]);
    expect(out.slice(0, 10)).toEqual([]);
  });

  it('reads rows that end at the last byte of the memory', () => {
    const size = DTYPE_INFO[dtype].itemsize;
    const end = memory.buffer.byteLength;
    fillQueries('random', 77, 300);
    const rng = mulberry32(78);
    const view = new DataView(memory.buffer);
    for (let at = end - 300 * size; at < end; at += size) FILLERS[dtype].random(view, at, rng);
    const out: string[] = [];
    for (const n of [1, 8, 129, 300]) {
      const at = end - n * size;
      const a = converted(dtype, at, n);
      compare(out, `sum n=${n}`, k.sum(at, n), pairwiseSum(a, 0, n));
      compare(out, `dot n=${n}`, k.dot(at, Q_BYTE, n), dotInLanes(a, 0, f64, Q_BYTE / 8, n));
    }
    expect(out).toEqual([]);
    expect(() => k.sum(end - size, 2)).toThrow(/out of bounds/);
  });
});

describe('widening to float64', () => {
  const at = ROWS_BYTE;

  it('decodes every float16 bit pattern in every lane of a block, and in tails, exactly as the lookup table does', () => {
    const k = simdKernelsFor(memory, 'float16');
    const u16 = new Uint16Array(memory.buffer);
    const out: string[] = [];
    const q = Q_BYTE / 8;
    for (let bits = 0; bits < 65536 && out.length <= 10; bits++) {
      const want = FLOAT16_TO_FLOAT64[bits];
      // A block decodes its 8 lanes in two halves of 4 and four f64x2 pairs: every lane is checked.
      for (let lane = 0; lane < 8; lane++) {
        // -0 everywhere else, and x + -0 is x for every x (including +0 and -0): the sum is x.
        u16.fill(0x8000, at / 2, at / 2 + 8);
        u16[at / 2 + lane] = bits;
        compare(out, `sum, lane ${lane} of a block: ${bits.toString(16)}`, k.sum(at, 8), want);
        f64.fill(0, q, q + 8);
        f64[q + lane] = 1;
        compare(
          out,
          `dot, lane ${lane} of a block: ${bits.toString(16)}`,
          k.dot(at, Q_BYTE, 8),
          dotInLanes(converted('float16', at, 8), 0, f64, q, 8),
        );
      }
      u16.fill(0x8000, at / 2, at / 2 + 8);
      u16[at / 2 + 8] = bits;
      compare(out, `sum, tail: ${bits.toString(16)}`, k.sum(at, 9), want);
    }
    expect(out).toEqual([]);
  });

  it('rounds 64-bit integers to nearest even, as NumPy does', () => {
    const cases: [DType, bigint, number][] = [
      ['int64', 2n ** 53n + 1n, 2 ** 53],
      ['int64', 2n ** 53n + 3n, 2 ** 53 + 4],
      ['int64', 2n ** 63n - 1n, 2 ** 63],
      ['int64', -(2n ** 63n), -(2 ** 63)],
      ['int64', -(2n ** 53n) - 1n, -(2 ** 53)],
      ['uint64', 2n ** 64n - 1n, 2 ** 64],
      ['uint64', 2n ** 63n + 2n ** 10n, 2 ** 63],
      ['uint64', 2n ** 63n + 2n ** 10n + 1n, 2 ** 63 + 2 ** 11],
    ];
    const view = new DataView(memory.buffer);
    for (const [dtype, value, expected] of cases) {
      const k = simdKernelsFor(memory, dtype);
      for (let i = 0; i < 9; i++) view.setBigUint64(at + 8 * i, 0n, true);
      view.setBigUint64(at, BigInt.asUintN(64, value), true);
      expect(k.sum(at, 8), `${dtype} ${value} in a block`).toBe(expected);
      expect(k.sum(at, 1), `${dtype} ${value} in a tail`).toBe(expected);
    }
  });

  it('reads any nonzero bool byte as 1', () => {
    const k = simdKernelsFor(memory, 'bool');
    for (let i = 0; i < 20; i++) bytes[at + i] = [0, 1, 2, 255, 128][i % 5];
    expect(k.sum(at, 20)).toBe(16);
    expect(k.sum(at, 7)).toBe(5);
  });
});
