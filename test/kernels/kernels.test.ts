import { describe, expect, it } from 'vitest';
import { flatSum } from '../../bench/flat-sum.js';
import type { DType } from '../../src/datasets/dtypes.js';
import { FLOAT16_TO_FLOAT64 } from '../../src/jobs/kernels/convert.js';
import { validateParams } from '../../src/ops/params.js';
import { opNamed } from '../../src/ops/registry.js';
import { float16Value, mismatches } from '../helpers/fixtures.js';
import { runRows, type TestParams } from '../helpers/run-rows.js';

const DEFAULTS: TestParams = { ddof: 0, ord: 2, q: 0.5 };

interface RunOptions {
  readonly params?: TestParams;
  /** Dataset rows to compute (default all); results come back in a buffer of just those rows. */
  readonly r0?: number;
  readonly r1?: number;
}

/** Runs `op` over `data` (the whole dataset, rows x rowLength) in one call and returns the results. */
function run(
  op: string,
  dtype: DType,
  data: ArrayBufferView,
  rows: number,
  rowLength: number,
  options: RunOptions = {},
): Float64Array {
  const { r0 = 0, r1 = rows } = options;
  return runRows({
    op,
    dtype,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    rows,
    rowLength,
    params: { ...DEFAULTS, ...options.params },
    r0,
    r1,
  });
}

/** A deterministic spread of magnitudes, so that the order of summation shows in the last bits. */
function spread(n: number): Float64Array {
  const scales = [1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4];
  return Float64Array.from({ length: n }, (_, k) => ((((k * 7919) % 10007) - 5003) / 7) * scales[k % 9]);
}

/** A small xorshift generator, for repeatable pseudo-random data. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

describe('pairwise summation', () => {
  // Reference values printed by NumPy 2.4 (repr round-trips) for spread(10000) and its 100 x 100 reshape.
  const x = spread(10000);

  it('matches NumPy bit for bit on one long row', () => {
    expect(run('sum', 'float64', x, 1, 10000)[0]).toBe(7152405.606242862);
    expect(run('mean', 'float64', x, 1, 10000)[0]).toBe(715.2405606242861);
    expect(run('var', 'float64', x, 1, 10000)[0]).toBe(1906850437319.5615);
    expect(run('var', 'float64', x, 1, 10000, { params: { ddof: 1 } })[0]).toBe(1907041141433.705);
    expect(run('norm', 'float64', x, 1, 10000, { params: { ord: 1 } })[0]).toBe(4406709261.093643);
    expect(run('norm', 'float64', x, 1, 10000)[0]).toBe(Math.sqrt(1.906850948888621e16));
  });

  it('differs from a sequential sum on the same data', () => {
    let sequential = 0;
    for (const v of x) sequential += v;
    expect(sequential).not.toBe(7152405.606242862);
  });

  it('matches NumPy per row', () => {
    expect(Array.from(run('sum', 'float64', x, 100, 100).subarray(0, 3))).toEqual([
      -1651783.362071429, 8800687.168314286, -8898374.07087143,
    ]);
    expect(Array.from(run('var', 'float64', x, 100, 100).subarray(0, 3))).toEqual([
      1458606675760.8684, 1912654867908.7544, 2277730432801.321,
    ]);
  });

  it('gives the same bits through the int conversion path', () => {
    const ints = Int32Array.from({ length: 5000 }, (_, k) => ((k * 7919) % 10007) - 5003);
    const asDoubles = Float64Array.from(ints);
    for (const op of ['sum', 'var', 'std', 'norm', 'median'] as const) {
      expect(Array.from(run(op, 'int32', ints, 4, 1250))).toEqual(
        Array.from(run(op, 'float64', asDoubles, 4, 1250)),
      );
    }
  });

  it('turns a sum of negative zeros into +0 as NumPy does', () => {
    const zeros = new Float64Array(16).fill(-0);
    expect(Object.is(run('sum', 'float64', zeros, 2, 8)[0], 0)).toBe(true);
    expect(Object.is(run('sum', 'float64', zeros, 4, 4)[0], 0)).toBe(true);
  });
});

describe('rows of length 1 (1-D datasets)', () => {
  const values = Float32Array.of(1.5, -2, Number.NaN, Number.POSITIVE_INFINITY, 0);

  it('computes each op on the single element', () => {
    expect(Array.from(run('sum', 'float32', values, 5, 1))).toEqual([
      1.5,
      -2,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      0,
    ]);
    expect(Array.from(run('max', 'float32', values, 5, 1))).toEqual([
      1.5,
      -2,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      0,
    ]);
    expect(Array.from(run('norm', 'float32', values, 5, 1))).toEqual([
      1.5,
      2,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      0,
    ]);
    expect(Array.from(run('median', 'float32', values, 5, 1))).toEqual([
      1.5,
      -2,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      0,
    ]);
    expect(Array.from(run('var', 'float32', values, 5, 1))).toEqual([0, 0, Number.NaN, Number.NaN, 0]);
    expect(Array.from(run('var', 'float32', values, 5, 1, { params: { ddof: 1 } }))).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
    expect(Array.from(run('argmax', 'float32', values, 5, 1))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(run('count_nonzero', 'float32', values, 5, 1))).toEqual([1, 1, 1, 1, 0]);
    expect(
      Array.from(run('euclidean', 'float32', values, 5, 1, { params: { vector: Float64Array.of(1) } })),
    ).toEqual([0.5, 3, Number.NaN, Number.POSITIVE_INFINITY, 1]);
  });
});

describe('results and row ranges', () => {
  const data = Int16Array.from({ length: 24 }, (_, k) => k * (k % 2 === 0 ? 1 : -1));

  it('writes row r0 to the first slot of the result view', () => {
    expect(Array.from(run('sum', 'int16', data, 6, 4, { r0: 2, r1: 5 }))).toEqual([-2, -2, -2]);
    expect(Array.from(run('argmin', 'int16', data, 6, 4, { r0: 3, r1: 6 }))).toEqual([3, 3, 3]);
  });

  it('leaves the result untouched for an empty range', () => {
    expect(run('sum', 'int16', data, 6, 4, { r0: 6, r1: 6 }).length).toBe(0);
  });

  it('reads from a dataset that starts inside its buffer', () => {
    const buffer = new ArrayBuffer(64 + 6 * 8);
    const big = new BigInt64Array(buffer, 64, 6);
    big.set([1n, -2n, 3n, 2n ** 60n, -(2n ** 60n), 7n]);
    expect(Array.from(run('sum', 'int64', big, 2, 3))).toEqual([2, 7]);
  });

  it('refuses at validation what a kernel could not run, naming what is wrong', () => {
    const shape = { dtype: 'int16' as const, rows: 6, rowLength: 4 };
    const check =
      (op: string, params: object, on = shape) =>
      () =>
        validateParams(opNamed(op), params, on);
    expect(check('dot', {})).toThrow(/op dot needs params.vector, a list of 4 numbers/);
    expect(check('dot', { vector: [1, 2] })).toThrow(
      /params.vector has 2 numbers but the dataset's rows have 4/,
    );
    expect(check('norm', { ord: 3 })).toThrow(/body.params.ord must be one of 1, 2, "inf"/);
    expect(check('quantile', { q: 1.5 })).toThrow(/body.params.q must be <= 1/);
    expect(check('var', { ddof: -1 })).toThrow(/body.params.ddof must be >= 0/);
    expect(check('min', {}, { ...shape, rowLength: 0 })).toThrow(/undefined on rows of length 0/);
    expect(check('norm', { ord: 'inf' }, { ...shape, rowLength: 0 })).toThrow(
      /norm with ord "inf" is undefined/,
    );
    expect(check('mean', { ddof: 1 })).toThrow(/unknown param "ddof" for op mean; it takes no params/);
  });
});

describe('dtype conversion', () => {
  it('decodes float16 special and boundary values', () => {
    const known: [number, number][] = [
      [0x3c00, 1],
      [0x7c00, Number.POSITIVE_INFINITY],
      [0xfc00, Number.NEGATIVE_INFINITY],
      [0x0001, 2 ** -24],
      [0x8001, -(2 ** -24)],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x7bff, 65504],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x0000, 0],
    ];
    const bits = Uint16Array.from(known, ([b]) => b);
    expect(Array.from(run('sum', 'float16', bits, known.length, 1))).toEqual(known.map(([, v]) => v));
    expect(Object.is(FLOAT16_TO_FLOAT64[0x8000], -0)).toBe(true);
    expect(FLOAT16_TO_FLOAT64[0x7e00]).toBeNaN();
    expect(FLOAT16_TO_FLOAT64[0xfe01]).toBeNaN();
  });

  it('agrees with the float16 formula on all 65536 bit patterns', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      if (!Object.is(FLOAT16_TO_FLOAT64[bits], float16Value(bits))) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });

  it('converts int64 and uint64 beyond 2^53 as Number(BigInt) does', () => {
    const next = random(7);
    const randomBig = () =>
      (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));
    const signed = [
      2n ** 53n + 1n,
      2n ** 53n + 3n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      -(2n ** 53n) - 1n,
      -(2n ** 53n) - 3n,
      12345678901234567n,
      -1n,
      0n,
      ...Array.from({ length: 200 }, () => BigInt.asIntN(64, randomBig())),
    ];
    const int64 = BigInt64Array.from(signed);
    expect(Array.from(run('max', 'int64', int64, signed.length, 1))).toEqual(signed.map((v) => Number(v)));

    const unsigned = [
      2n ** 64n - 1n,
      2n ** 63n,
      2n ** 63n + 2n ** 10n + 1n,
      2n ** 53n + 1n,
      2n ** 32n - 1n,
      2n ** 32n,
      ...Array.from({ length: 200 }, randomBig),
    ];
    const uint64 = BigUint64Array.from(unsigned);
    expect(Array.from(run('min', 'uint64', uint64, unsigned.length, 1))).toEqual(
      unsigned.map((v) => Number(v)),
    );
  });

  it('converts every integer dtype exactly', () => {
    const cases: [DType, ArrayBufferView, number[]][] = [
      ['int8', Int8Array.of(-128, 127, -1), [-128, 127, -1]],
      ['uint8', Uint8Array.of(0, 255, 1), [0, 255, 1]],
      ['int16', Int16Array.of(-32768, 32767, -1), [-32768, 32767, -1]],
      ['uint16', Uint16Array.of(0, 65535, 1), [0, 65535, 1]],
      ['int32', Int32Array.of(-(2 ** 31), 2 ** 31 - 1, -1), [-(2 ** 31), 2 ** 31 - 1, -1]],
      ['uint32', Uint32Array.of(0, 2 ** 32 - 1, 1), [0, 2 ** 32 - 1, 1]],
      [
        'float32',
        Float32Array.of(0.1, -3.5e38, 1e-45),
        [Math.fround(0.1), Math.fround(-3.5e38), Math.fround(1e-45)],
      ],
    ];
    for (const [dtype, data, expected] of cases) {
      expect(Array.from(run('sum', dtype, data, 3, 1)), dtype).toEqual(expected);
    }
  });

  it('reads any nonzero bool byte as True', () => {
    const bools = Uint8Array.of(1, 0, 2, 255, 0, 1);
    expect(Array.from(run('sum', 'bool', bools, 2, 3))).toEqual([2, 2]);
    expect(Array.from(run('max', 'bool', bools, 2, 3))).toEqual([1, 1]);
  });

  it('converts rows in chunks without mixing rows up', () => {
    // 7000 rows of 3 cross several conversion chunks; one 40000-long row needs more than one chunk's room.
    const small = Uint8Array.from({ length: 21000 }, (_, k) => (k * 31) % 251);
    const expected = Array.from(
      { length: 7000 },
      (_, r) => small[3 * r] + small[3 * r + 1] + small[3 * r + 2],
    );
    expect(Array.from(run('sum', 'uint8', small, 7000, 3))).toEqual(expected);
    const long = Int8Array.from({ length: 80000 }, (_, k) => (k % 256) - 128);
    const rowSums = [0, 0];
    long.forEach((v, k) => {
      rowSums[Math.floor(k / 40000)] += v;
    });
    expect(Array.from(run('sum', 'int8', long, 2, 40000))).toEqual(rowSums);
  });
});

describe('median and quantile', () => {
  function sortedQuantile(row: Float64Array, q: number): number {
    const s = Float64Array.from(row).sort();
    const h = (s.length - 1) * q;
    const lo = Math.floor(h);
    const t = h - lo;
    const a = s[lo];
    const b = s[Math.min(lo + 1, s.length - 1)];
    return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
  }

  it('matches a full sort on random, repetitive, sorted and reversed rows', () => {
    const next = random(3);
    const rows: Float64Array[] = [];
    for (const n of [1, 2, 3, 4, 7, 8, 31, 128, 1001, 5000]) {
      rows.push(Float64Array.from({ length: n }, () => next() * 2 - 1));
      rows.push(Float64Array.from({ length: n }, () => Math.floor(next() * 3)));
      rows.push(Float64Array.from({ length: n }, (_, k) => k));
      rows.push(Float64Array.from({ length: n }, (_, k) => n - k));
      rows.push(new Float64Array(n).fill(4));
    }
    for (const row of rows) {
      const n = row.length;
      const s = Float64Array.from(row).sort();
      const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      expect(run('median', 'float64', row, 1, n)[0]).toBe(median);
      for (const q of [0, 0.1, 0.25, 0.5, 0.7, 0.999, 1]) {
        expect(run('quantile', 'float64', row, 1, n, { params: { q } })[0]).toBe(sortedQuantile(row, q));
      }
    }
  });

  it('leaves the dataset unchanged', () => {
    const row = Float64Array.of(5, 1, 4, 2, 3);
    run('median', 'float64', row, 1, 5);
    expect(Array.from(row)).toEqual([5, 1, 4, 2, 3]);
  });

  it('gives NaN for a row with NaN and interpolates infinities as NumPy does', () => {
    const rows = Float64Array.of(
      1,
      Number.NaN,
      3,
      1,
      Number.POSITIVE_INFINITY,
      3,
      Number.NEGATIVE_INFINITY,
      0,
      9,
    );
    expect(Array.from(run('median', 'float64', rows, 3, 3))).toEqual([Number.NaN, 3, 0]);
    expect(Array.from(run('quantile', 'float64', rows, 3, 3, { params: { q: 0.25 } }))).toEqual([
      Number.NaN,
      2,
      Number.NEGATIVE_INFINITY,
    ]);
    // NumPy: np.quantile([1.0, np.inf], 0.0) and np.median([-np.inf, np.inf]) are both nan.
    expect(
      run('quantile', 'float64', Float64Array.of(1, Number.POSITIVE_INFINITY), 1, 2, { params: { q: 0 } })[0],
    ).toBeNaN();
    expect(
      run('median', 'float64', Float64Array.of(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), 1, 2)[0],
    ).toBeNaN();
  });

  it('matches NumPy on a long row', () => {
    const x = spread(10000);
    expect(run('median', 'float64', x, 1, 10000)[0]).toBe(9.285714285714285e-5);
    expect(run('quantile', 'float64', x, 1, 10000, { params: { q: 0.3 } })[0]).toBe(-38.15857142857144);
  });
});

describe('min, max, argmin, argmax', () => {
  it('propagates NaN and picks the first NaN or the first extreme', () => {
    const rows = Float64Array.of(3, 1, 1, 3, 2, Number.NaN, 0, Number.NaN, 5, -1, 5, -1);
    expect(Array.from(run('min', 'float64', rows, 3, 4))).toEqual([1, Number.NaN, -1]);
    expect(Array.from(run('max', 'float64', rows, 3, 4))).toEqual([3, Number.NaN, 5]);
    expect(Array.from(run('argmin', 'float64', rows, 3, 4))).toEqual([1, 1, 1]);
    expect(Array.from(run('argmax', 'float64', rows, 3, 4))).toEqual([0, 1, 0]);
    expect(Array.from(run('argmax', 'float64', Float64Array.of(Number.NaN, 1), 1, 2))).toEqual([0]);
    expect(
      Array.from(run('norm', 'float64', rows, 3, 4, { params: { ord: Number.POSITIVE_INFINITY } })),
    ).toEqual([3, Number.NaN, 5]);
  });
});

describe('vector ops', () => {
  it('computes dot, cosine and euclidean, with NaN cosine for a zero row', () => {
    const rows = Float64Array.of(1, 2, 2, 0, 0, 0, 3, 0, 4);
    const vector = Float64Array.of(2, 0, 0);
    const params = { vector };
    expect(Array.from(run('dot', 'float64', rows, 3, 3, { params }))).toEqual([2, 0, 6]);
    expect(Array.from(run('cosine', 'float64', rows, 3, 3, { params }))).toEqual([1 / 3, Number.NaN, 0.6]);
    expect(Array.from(run('euclidean', 'float64', rows, 3, 3, { params }))).toEqual([3, 2, Math.sqrt(17)]);
  });

  it('matches a plain reference on long rows', () => {
    const next = random(11);
    const n = 1003;
    const rows = Float64Array.from({ length: 3 * n }, () => next() - 0.5);
    const vector = Float64Array.from({ length: n }, () => next() - 0.5);
    const dot = [0, 0, 0];
    const dist = [0, 0, 0];
    rows.forEach((v, k) => {
      const r = Math.floor(k / n);
      dot[r] += v * vector[k % n];
      dist[r] += (v - vector[k % n]) ** 2;
    });
    expect(mismatches(run('dot', 'float64', rows, 3, n, { params: { vector } }), dot, 1e-12)).toEqual([]);
    expect(
      mismatches(run('euclidean', 'float64', rows, 3, n, { params: { vector } }), dist.map(Math.sqrt), 1e-12),
    ).toEqual([]);
  });
});

describe('strided_mean', () => {
  function reference(all: ArrayLike<number>, row: number): number {
    let sum = 0;
    let count = 0;
    for (let k = 0; k < all.length; k += row + 1) {
      sum += all[k];
      count++;
    }
    return sum / count;
  }

  it('reads the whole dataset with the stride of the dataset row', () => {
    const data = Int16Array.from({ length: 37 * 11 }, (_, k) => ((k * 7919) % 1000) - 500);
    const expected = Array.from({ length: 37 }, (_, i) => reference(data, i));
    expect(mismatches(run('strided_mean', 'int16', data, 37, 11), expected, 1e-12)).toEqual([]);
    // A job over rows 5..9 still strides by the dataset row, not by its position in the job.
    expect(
      mismatches(run('strided_mean', 'int16', data, 37, 11, { r0: 5, r1: 9 }), expected.slice(5, 9), 1e-12),
    ).toEqual([]);
  });

  it('matches NumPy bit for bit', () => {
    const x = spread(10000);
    const result = run('strided_mean', 'float64', x, 100, 100);
    expect([0, 1, 2, 6, 99].map((i) => result[i])).toEqual([
      715.2405606242861, 3051.043966982856, 46.88215132830567, 4482.417621393583, 3702.739062428567,
    ]);
  });

  it('gives the same means for every dtype path', () => {
    const ints = Uint32Array.from({ length: 3000 }, (_, k) => (k * 2654435761) % 4294967296);
    const wide = BigUint64Array.from(ints, (v) => BigInt(v));
    const doubles = Float64Array.from(ints);
    const expected = Array.from(run('strided_mean', 'float64', doubles, 30, 100));
    expect(Array.from(run('strided_mean', 'uint32', ints, 30, 100))).toEqual(expected);
    expect(Array.from(run('strided_mean', 'uint64', wide, 30, 100))).toEqual(expected);
  });
});

describe('flatSum', () => {
  it('sums a range of a view', () => {
    const view = Float64Array.from({ length: 103 }, (_, k) => k);
    expect(flatSum(view, 0, 103)).toBe((102 * 103) / 2);
    expect(flatSum(view, 10, 17)).toBe(10 + 11 + 12 + 13 + 14 + 15 + 16);
    expect(flatSum(view, 5, 5)).toBe(0);
  });
});
