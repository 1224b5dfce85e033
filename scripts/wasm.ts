/**
 * Writes src/jobs/kernels/simd.wat from the templates below and assembles it into
 * src/jobs/kernels/simd-binary.ts: `npm run wasm`. With `--check` it writes nothing and exits 1 if
 * either committed file differs from what this script gives.
 *
 * The kernels are the same for every dtype but for how a block of 8 elements is loaded and widened
 * to float64, and WebAssembly has no generics or guaranteed inlining: a helper call per block would
 * cost more than the block's arithmetic. So each dtype gets its own copy of each kernel, written
 * out here from one template, and the .wat stays committed so the code that runs can be read.
 *
 * The binary ships as base64 inside a TypeScript module so the build (tsc) and the workers need no
 * loader for a separate asset, and the service has no runtime dependency on wabt.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const WAT_FILE = new URL('../src/jobs/kernels/simd.wat', import.meta.url);
export const BINARY_MODULE_FILE = new URL('../src/jobs/kernels/simd-binary.ts', import.meta.url);

const FEATURES = { simd: true, threads: true };

/**
 * wabt.js's validate takes the feature set too, though its typings do not say so; without it the
 * shared memory import is refused.
 */
interface ValidatingModule {
  validate(features: typeof FEATURES): void;
}

/** Assembles the WAT text into a wasm binary; throws with wabt's messages if it is not valid. */
export async function assemble(source: string, filename = 'simd.wat'): Promise<Uint8Array> {
  const toolkit = await wabt();
  const module = toolkit.parseWat(filename, source, FEATURES);
  try {
    (module as unknown as ValidatingModule).validate(FEATURES);
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Element types: how 8 elements at byte offset $p become the f64x2 locals $x0..$x3 (elements 0-1,
// 2-3, 4-5, 6-7), and how one element becomes an f64. Every conversion is exact, or rounds once to
// nearest even where float64 cannot hold the value (64-bit integers), as NumPy's astype does.

interface ElementType {
  /** The export suffix, e.g. `sum_f32`. */
  readonly suffix: string;
  /** NumPy's name, for the comments. */
  readonly numpy: string;
  /** log2 of the element's size in bytes. */
  readonly shift: number;
  /** Locals the block load uses besides $x0..$x3. */
  readonly locals: string;
  /** Statements run once per call before the first block, e.g. to set constants. */
  readonly setup?: string;
  /** Statements that set $x0..$x3 from the 8 elements at $p. */
  readonly block: string;
  /** An f64 expression for the element at $p. */
  readonly scalar: string;
  /**
   * How many queries dotMany scores against a row at once, sharing each block's load and widening.
   * 1 for float64 and float32, whose blocks are a load (and a convert V8 folds into it): 2 queries'
   * 8 accumulators beside the 4 widened vectors leave V8 short of registers, and it spills
   * accumulators (measured: 8-15% slower than 1).
   */
  readonly dotGroup: number;
}

const x = (k: number): string => `(local.get $x${k})`;
const setX = (k: number, expr: string): string => `(local.set $x${k} ${expr})`;
/** The upper two i32 lanes of $w moved down, for f64x2.convert_low / promote_low. */
const HIGH_HALF = 'i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15';
const i32x4 = (value: string): string => `(v128.const i32x4 ${value} ${value} ${value} ${value})`;

/** Four int32 lanes in $w (and, for 8-element types, four more in $v) to $x0..$x3. */
function fromI32Lanes(convert: string, registers: readonly string[]): string {
  return registers
    .flatMap((r, i) => [
      setX(2 * i, `(${convert} (local.get ${r}))`),
      setX(2 * i + 1, `(${convert} (${HIGH_HALF} (local.get ${r}) (local.get ${r})))`),
    ])
    .join('\n');
}

const i16x8 = (value: string): string => `(v128.const i16x8 ${Array(8).fill(value).join(' ')})`;

/**
 * float16 to float32, 8 at a time, after F. Giesen's half_to_float_SSE2: each half's bits are put
 * where a float32's go (sign to bit 31, exponent and mantissa shifted up by 13) and the float32 is
 * multiplied by 2^112, which rebiases a normal exactly and renormalises a subnormal exactly (its
 * product is a normal float32). An infinity or NaN gets the all-ones exponent before the multiply,
 * which keeps it infinite or NaN. The float32 bits are built as two i16 halves over all 8 lanes at
 * once: the high one is the half shifted right by 3 (arithmetically, then masked: the sign stays
 * in bit 15) with the inf/NaN exponent bits ORed in, the low one the half shifted left by 13; two
 * interleaves then give the float32 lanes.
 *
 * V8 builds every v128.const afresh at each use, with several instructions, and does not hoist one
 * out of a loop: the constants live in locals that are set once per call, which V8 keeps in
 * registers.
 */
const HALF_CONSTANTS: readonly (readonly [string, string])[] = [
  ['$signExpMant', i16x8('0x8fff')],
  ['$expMant', i16x8('0x7fff')],
  ['$finiteMax', i16x8('0x7bff')],
  ['$infNanExp', i16x8('0x7000')],
  // (254 - 15) << 23: 2^112 as float32 bits.
  ['$scale', i32x4('0x77800000')],
];

const HALF_SETUP = HALF_CONSTANTS.map(([name, value]) => `(local.set ${name} ${value})`).join('\n');

/** i16 lanes 0-3 (or 4-7) of $a and $b interleaved: $b's 16 bits above $a's in each i32 lane. */
const INTERLEAVE_LOW = 'i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23';
const INTERLEAVE_HIGH = 'i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31';

function halfBlock(): string {
  const half = (i: number): string =>
    [
      `(local.set $o (f32x4.mul
  (${i === 0 ? INTERLEAVE_LOW : INTERLEAVE_HIGH} (local.get $h) (local.get $e)) (local.get $scale)))`,
      setX(2 * i, '(f64x2.promote_low_f32x4 (local.get $o))'),
      setX(2 * i + 1, `(f64x2.promote_low_f32x4 (${HIGH_HALF} (local.get $o) (local.get $o)))`),
    ].join('\n');
  return [
    '(local.set $h (v128.load align=2 (local.get $p)))',
    `(local.set $e (v128.or
  (v128.and (i16x8.shr_s (local.get $h) (i32.const 3)) (local.get $signExpMant))
  (v128.and
    (i16x8.gt_s (v128.and (local.get $h) (local.get $expMant)) (local.get $finiteMax))
    (local.get $infNanExp))))`,
    '(local.set $h (i16x8.shl (local.get $h) (i32.const 13)))',
    half(0),
    half(1),
  ].join('\n');
}

function int64Block(convert: string): string {
  return [0, 1, 2, 3]
    .map((k) =>
      setX(
        k,
        `(f64x2.replace_lane 1
  (f64x2.splat (${convert} (i64.load offset=${16 * k} align=8 (local.get $p))))
  (${convert} (i64.load offset=${16 * k + 8} align=8 (local.get $p))))`,
      ),
    )
    .join('\n');
}

/** 8 bytes at $p as i16x8 in $w (via `load`), then to $x0..$x3 through two i32x4 halves. */
function byteBlock(load: string, extend: 's' | 'u', fix = ''): string {
  return [
    `(local.set $w ${load})`,
    fix,
    `(local.set $v (i32x4.extend_high_i16x8_${extend} (local.get $w)))`,
    `(local.set $w (i32x4.extend_low_i16x8_${extend} (local.get $w)))`,
    fromI32Lanes('f64x2.convert_low_i32x4_s', ['$w', '$v']),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Two loads of 4 16-bit values widened to i32x4, each to two f64x2. */
function shortBlock(extend: 's' | 'u'): string {
  return [0, 1]
    .flatMap((i) => [
      `(local.set $w (v128.load16x4_${extend} offset=${8 * i} align=2 (local.get $p)))`,
      setX(2 * i, '(f64x2.convert_low_i32x4_s (local.get $w))'),
      setX(2 * i + 1, `(f64x2.convert_low_i32x4_s (${HIGH_HALF} (local.get $w) (local.get $w)))`),
    ])
    .join('\n');
}

const ELEMENT_TYPES: readonly ElementType[] = [
  {
    suffix: 'f64',
    numpy: 'float64',
    shift: 3,
    locals: '',
    block: [0, 1, 2, 3].map((k) => setX(k, `(v128.load offset=${16 * k} align=8 (local.get $p))`)).join('\n'),
    scalar: '(f64.load (local.get $p))',
    dotGroup: 1,
  },
  {
    suffix: 'f32',
    numpy: 'float32',
    shift: 2,
    locals: '',
    block: [0, 1, 2, 3]
      .map((k) =>
        setX(k, `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${8 * k} align=4 (local.get $p)))`),
      )
      .join('\n'),
    scalar: '(f64.promote_f32 (f32.load align=4 (local.get $p)))',
    dotGroup: 1,
  },
  {
    suffix: 'f16',
    numpy: 'float16',
    shift: 1,
    locals: `(local $h v128) (local $o v128) (local $e v128) ${HALF_CONSTANTS.map(([name]) => `(local ${name} v128)`).join(' ')}`,
    setup: HALF_SETUP,
    block: halfBlock(),
    scalar: '(call $half (i32.load16_u align=2 (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'i8',
    numpy: 'int8',
    shift: 0,
    locals: '(local $w v128) (local $v v128)',
    block: byteBlock('(v128.load8x8_s align=1 (local.get $p))', 's'),
    scalar: '(f64.convert_i32_s (i32.load8_s (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'u8',
    numpy: 'uint8',
    shift: 0,
    locals: '(local $w v128) (local $v v128)',
    block: byteBlock('(v128.load8x8_u align=1 (local.get $p))', 'u'),
    scalar: '(f64.convert_i32_s (i32.load8_u (local.get $p)))',
    dotGroup: 2,
  },
  {
    // NumPy reads any nonzero byte as True: min(byte, 1) is 1 for all of them.
    suffix: 'bool',
    numpy: 'bool',
    shift: 0,
    locals: '(local $w v128) (local $v v128)',
    block: byteBlock(
      '(v128.load8x8_u align=1 (local.get $p))',
      'u',
      '(local.set $w (i16x8.min_u (local.get $w) (v128.const i16x8 1 1 1 1 1 1 1 1)))',
    ),
    scalar: '(f64.convert_i32_s (i32.ne (i32.load8_u (local.get $p)) (i32.const 0)))',
    dotGroup: 2,
  },
  {
    suffix: 'i16',
    numpy: 'int16',
    shift: 1,
    locals: '(local $w v128)',
    block: shortBlock('s'),
    scalar: '(f64.convert_i32_s (i32.load16_s align=2 (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'u16',
    numpy: 'uint16',
    shift: 1,
    locals: '(local $w v128)',
    block: shortBlock('u'),
    scalar: '(f64.convert_i32_s (i32.load16_u align=2 (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'i32',
    numpy: 'int32',
    shift: 2,
    locals: '',
    block: [0, 1, 2, 3]
      .map((k) =>
        setX(k, `(f64x2.convert_low_i32x4_s (v128.load64_zero offset=${8 * k} align=4 (local.get $p)))`),
      )
      .join('\n'),
    scalar: '(f64.convert_i32_s (i32.load align=4 (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'u32',
    numpy: 'uint32',
    shift: 2,
    locals: '',
    block: [0, 1, 2, 3]
      .map((k) =>
        setX(k, `(f64x2.convert_low_i32x4_u (v128.load64_zero offset=${8 * k} align=4 (local.get $p)))`),
      )
      .join('\n'),
    scalar: '(f64.convert_i32_u (i32.load align=4 (local.get $p)))',
    dotGroup: 2,
  },
  {
    // WebAssembly's i64 to f64 conversions round to nearest even, as NumPy's cast does; SIMD has
    // none, so the lanes are converted one by one.
    suffix: 'i64',
    numpy: 'int64',
    shift: 3,
    locals: '',
    block: int64Block('f64.convert_i64_s'),
    scalar: '(f64.convert_i64_s (i64.load align=8 (local.get $p)))',
    dotGroup: 2,
  },
  {
    suffix: 'u64',
    numpy: 'uint64',
    shift: 3,
    locals: '',
    block: int64Block('f64.convert_i64_u'),
    scalar: '(f64.convert_i64_u (i64.load align=8 (local.get $p)))',
    dotGroup: 2,
  },
];

// ---------------------------------------------------------------------------------------------------
// Kernels: what each adds up, as a transform of the f64x2 $x<k> (and the float64 query at $q).

interface Summand {
  readonly name: string;
  /** Extra parameters after $p and $n, or after $p, $q and $n for the two-operand ones. */
  readonly twoOperand: boolean;
  readonly meanParam: boolean;
  readonly vector: (k: number) => string;
  readonly scalar: (element: string) => string;
}

const qVector = (k: number): string => `(v128.load offset=${16 * k} align=8 (local.get $q))`;

const SUMMANDS: readonly Summand[] = [
  { name: 'sum', twoOperand: false, meanParam: false, vector: x, scalar: (s) => s },
  {
    name: 'sumSquares',
    twoOperand: false,
    meanParam: false,
    vector: (k) => `(f64x2.mul ${x(k)} ${x(k)})`,
    scalar: (s) => `(f64.mul (local.tee $s ${s}) (local.get $s))`,
  },
  {
    name: 'sumAbs',
    twoOperand: false,
    meanParam: false,
    vector: (k) => `(f64x2.abs ${x(k)})`,
    scalar: (s) => `(f64.abs ${s})`,
  },
  {
    name: 'sumSquaredDeviations',
    twoOperand: false,
    meanParam: true,
    vector: (k) => `(f64x2.mul (local.tee $x${k} (f64x2.sub ${x(k)} (local.get $m))) ${x(k)})`,
    scalar: (s) => `(f64.mul (local.tee $s (f64.sub ${s} (local.get $mean))) (local.get $s))`,
  },
  {
    name: 'sumSquaredDifferences',
    twoOperand: true,
    meanParam: false,
    vector: (k) => `(f64x2.mul (local.tee $x${k} (f64x2.sub ${x(k)} ${qVector(k)})) ${x(k)})`,
    scalar: (s) => `(f64.mul (local.tee $s (f64.sub ${s} (f64.load (local.get $q)))) (local.get $s))`,
  },
];

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

const X_LOCALS = '(local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)';

function params(s: { twoOperand: boolean; meanParam: boolean }): string {
  return [
    '(param $p i32)',
    s.twoOperand ? '(param $q i32)' : '',
    '(param $n i32)',
    s.meanParam ? '(param $mean f64)' : '',
  ]
    .filter((p) => p !== '')
    .join(' ');
}

function exports(name: string, t: ElementType): string {
  // float64 keeps its unsuffixed names, which the float64 row kernels call.
  return t.suffix === 'f64' ? `(export "${name}") (export "${name}_f64")` : `(export "${name}_${t.suffix}")`;
}

function pairwiseKernel(s: Summand, t: ElementType): string {
  const size = 1 << t.shift;
  const leaf = `$${s.name}Leaf_${t.suffix}`;
  const self = `$${s.name}_${t.suffix}`;
  const accumulators = ['$a', '$b', '$c', '$d'];
  const qStep = s.twoOperand ? '\n(local.set $q (i32.add (local.get $q) (i32.const 64)))' : '';
  const qStepScalar = s.twoOperand ? '\n(local.set $q (i32.add (local.get $q) (i32.const 8)))' : '';
  const first = accumulators.map((a, k) => `(local.set ${a} ${s.vector(k)})`).join('\n');
  const next = accumulators
    .map((a, k) => `(local.set ${a} (f64x2.add (local.get ${a}) ${s.vector(k)}))`)
    .join('\n');
  const blocks = `${t.block}
${first}
(local.set $end
  (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const ${t.shift}))))
(local.set $p (i32.add (local.get $p) (i32.const ${8 * size})))${qStep}
(block $blocksDone
  (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
  (loop $blocks
${indent(`${t.block}\n${next}`, 4)}
    (local.set $p (i32.add (local.get $p) (i32.const ${8 * size})))${indent(qStep, 4)}
    (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
(local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))`;
  const setup = [s.meanParam ? '(local.set $m (f64x2.splat (local.get $mean)))' : '', t.setup ?? '']
    .filter((line) => line !== '')
    .map((line) => `${line}\n`)
    .join('');
  const args = ['(local.get $p)', s.twoOperand ? '(local.get $q)' : '', '(local.get $n)'];
  const mean = s.meanParam ? ' (local.get $mean)' : '';
  const call = (p: string, q: string, n: string): string =>
    `(call ${self} ${p}${s.twoOperand ? ` ${q}` : ''} ${n}${mean})`;
  return `  ;; ${s.name}, ${t.numpy}
  (func ${leaf} ${params(s)} (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) ${X_LOCALS}${s.meanParam ? ' (local $m v128)' : ''}${t.locals === '' ? '' : `\n    ${t.locals}`}
    ;; Locals start at +0, which is where NumPy starts a run shorter than 8.
    (local $end i32) (local $res f64) (local $s f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
${indent(setup + blocks, 8)}))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const ${t.shift}))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) ${s.scalar(t.scalar)}))
        (local.set $p (i32.add (local.get $p) (i32.const ${size})))${indent(qStepScalar, 8)}
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func ${self} ${exports(s.name, t)} ${params(s)} (result f64)
    (local $n2 i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call ${leaf} ${args.filter((a) => a !== '').join(' ')}${mean}))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (f64.add
      ${call('(local.get $p)', '(local.get $q)', '(local.get $n2)')}
      ${call(
        `(i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const ${t.shift})))`,
        '(i32.add (local.get $q) (i32.shl (local.get $n2) (i32.const 3)))',
        '(i32.sub (local.get $n) (local.get $n2))',
      )}))
`;
}

function dotKernel(t: ElementType): string {
  const size = 1 << t.shift;
  const accumulate = ['$a', '$b', '$c', '$d']
    .map((a, k) => `(local.set ${a} (f64x2.add (local.get ${a}) (f64x2.mul ${x(k)} ${qVector(k)})))`)
    .join('\n');
  return `  ;; dot, ${t.numpy}
  (func $dot_${t.suffix} ${exports('dot', t)} (param $p i32) (param $q i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) ${X_LOCALS}${t.locals === '' ? '' : `\n    ${t.locals}`}
    (local $end i32) (local $res f64)
${t.setup === undefined ? '' : `${indent(t.setup, 4)}\n`}    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const ${t.shift}))))
    (block $blocksDone
      (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
      (loop $blocks
${indent(`${t.block}\n${accumulate}`, 8)}
        (local.set $p (i32.add (local.get $p) (i32.const ${8 * size})))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
    (local.set $a
      (f64x2.add (f64x2.add (local.get $a) (local.get $b)) (f64x2.add (local.get $c) (local.get $d))))
    (local.set $res (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const ${t.shift}))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.mul ${t.scalar} (f64.load (local.get $q)))))
        (local.set $p (i32.add (local.get $p) (i32.const ${size})))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

${[...Array(t.dotGroup - 1).keys()].map((i) => dotGroupKernel(t, i + 2)).join('\n')}
${dotManyKernel(t)}`;
}

/**
 * dot of the row at $p with g queries, $qStride bytes apart from $q, to g float64 from $out: each
 * with the additions of dot, in the same order, so the bits of g calls of dot.
 */
function dotGroupKernel(t: ElementType, g: number): string {
  const size = 1 << t.shift;
  const queries = [...Array(g).keys()];
  const accumulators = queries.flatMap((i) => [0, 1, 2, 3].map((k) => `(local $s${i}_${k} v128)`)).join(' ');
  const accumulate = [0, 1, 2, 3]
    .flatMap((k) =>
      queries.map(
        (i) =>
          `(local.set $s${i}_${k} (f64x2.add (local.get $s${i}_${k}) (f64x2.mul ${x(k)} (v128.load offset=${16 * k} align=8 (local.get $q${i})))))`,
      ),
    )
    .join('\n');
  const step = (bytes: number): string =>
    queries.map((i) => `(local.set $q${i} (i32.add (local.get $q${i}) (i32.const ${bytes})))`).join('\n');
  const combine = queries
    .map(
      (i) => `(local.set $s${i}_0 (f64x2.add
  (f64x2.add (local.get $s${i}_0) (local.get $s${i}_1)) (f64x2.add (local.get $s${i}_2) (local.get $s${i}_3))))
(local.set $r${i} (f64.add (f64x2.extract_lane 0 (local.get $s${i}_0)) (f64x2.extract_lane 1 (local.get $s${i}_0))))`,
    )
    .join('\n');
  const tail = queries
    .map(
      (i) =>
        `(local.set $r${i} (f64.add (local.get $r${i}) (f64.mul (local.get $e64) (f64.load (local.get $q${i})))))`,
    )
    .join('\n');
  return `  ;; dot of one row with ${g} queries, ${t.numpy}
  (func $dot${g}_${t.suffix} (param $p i32) (param $q i32) (param $qStride i32) (param $n i32) (param $out i32)
    ${accumulators}
    ${X_LOCALS}${t.locals === '' ? '' : `\n    ${t.locals}`}
    ${queries.map((i) => `(local $q${i} i32) (local $r${i} f64)`).join(' ')}
    (local $end i32) (local $e64 f64)
    (local.set $q0 (local.get $q))
${queries
  .slice(1)
  .map((i) => `    (local.set $q${i} (i32.add (local.get $q${i - 1}) (local.get $qStride)))`)
  .join('\n')}
${t.setup === undefined ? '' : `${indent(t.setup, 4)}\n`}    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const ${t.shift}))))
    (block $blocksDone
      (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
      (loop $blocks
${indent(`${t.block}\n${accumulate}`, 8)}
        (local.set $p (i32.add (local.get $p) (i32.const ${8 * size})))
${indent(step(64), 8)}
        (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
${indent(combine, 4)}
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const ${t.shift}))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $e64 ${t.scalar})
${indent(tail, 8)}
        (local.set $p (i32.add (local.get $p) (i32.const ${size})))
${indent(step(8), 8)}
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
${queries.map((i) => `    (f64.store offset=${8 * i} (local.get $out) (local.get $r${i}))`).join('\n')})
`;
}

/**
 * dotMany a group of up to dotGroup queries at a time, each group over every row: the group's
 * queries and the block of rows stay in L1 while the group scores the rows.
 */
function dotManyKernel(t: ElementType): string {
  const groupOver = (g: number): string => {
    const score =
      g === 1
        ? `(f64.store (local.get $o) (call $dot_${t.suffix} (local.get $pr) (local.get $q) (local.get $n)))`
        : `(call $dot${g}_${t.suffix} (local.get $pr) (local.get $q) (local.get $qStride) (local.get $n) (local.get $o))`;
    return `(local.set $g (i32.const ${g}))
(local.set $pr (local.get $p))
(local.set $o (local.get $out))
(local.set $r (local.get $rows))
(loop $row${g}
  ${score}
  (local.set $pr (i32.add (local.get $pr) (local.get $stride)))
  (local.set $o (i32.add (local.get $o) (local.get $rowOut)))
  (br_if $row${g} (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))`;
  };
  // The largest group that fits what is left of the queries.
  let choose = groupOver(1);
  for (let g = 2; g <= t.dotGroup; g++) {
    choose = `(if (i32.ge_u (local.get $left) (i32.const ${g}))
  (then
${indent(groupOver(g), 4)})
  (else
${indent(choose, 4)}))`;
  }
  return `  ;; dotMany, ${t.numpy}
  (func $dotMany_${t.suffix} ${exports('dotMany', t)}
    (param $p i32) (param $rows i32) (param $n i32) (param $q i32) (param $nq i32) (param $out i32)
    (local $left i32) (local $g i32) (local $r i32) (local $pr i32) (local $o i32)
    (local $stride i32) (local $qStride i32) (local $rowOut i32)
    (local.set $stride (i32.shl (local.get $n) (i32.const ${t.shift})))
    (local.set $qStride (i32.shl (local.get $n) (i32.const 3)))
    (local.set $rowOut (i32.shl (local.get $nq) (i32.const 3)))
    (local.set $left (local.get $nq))
    (block $groupsDone
      (br_if $groupsDone (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $nq))))
      (loop $groups
${indent(choose, 8)}
        (local.set $q (i32.add (local.get $q) (i32.mul (local.get $g) (local.get $qStride))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $g) (i32.const 3))))
        (br_if $groups (local.tee $left (i32.sub (local.get $left) (local.get $g)))))))
`;
}

const HEADER = `;; Generated by \`npm run wasm\` (scripts/wasm.ts); edit the templates there, not this file.
;;
;; Row kernels over a dataset that lives in a shared WebAssembly.Memory, in f64x2 SIMD, one copy per
;; element type: each reads the type at its own width and widens to float64 in registers, so a
;; result is what the float64 kernel gives on the row converted with x.astype(float64).
;;
;; The pairwise kernels give the same bits as their twins in pairwise.ts, which follow NumPy's
;; pairwise summation: fewer than 8 values are added in order to 0; 8 to 128 values go through 8
;; strided accumulators r0..r7 (element 8j+k into r_k, the first 8 values initialising them),
;; combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the n%8 tail is added in order; longer
;; runs split at half the length rounded down to a multiple of 8 and add the two halves' sums.
;; The 8 accumulators are exactly the lanes of 4 f64x2 registers a=(r0,r1), b=(r2,r3),
;; c=(r4,r5), d=(r6,r7), and each lane sees the same additions in the same order as the scalar
;; code, so only the final combine needs its lanes taken apart. WebAssembly never fuses a
;; multiply with an add, so (x-m)*(x-m) rounds as it does in JS.
;;
;; dot is a sum of x*y, not pairwise. Rounding order, which dotInLanes in pairwise.ts repeats: 8
;; scalar accumulators s0..s7 start at +0 and element 8j+k of every whole block of 8 is added into
;; s_k; as lanes a=(s0,s1), b=(s2,s3), c=(s4,s5), d=(s6,s7) they are combined lane-wise as
;; v=(a+b)+(c+d), giving total = ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)); then the n%8 tail is
;; added to the total in order. dotMany is dot for each row and each of nq query vectors stored
;; back to back, written row by row (nq values a row) at $out.
;;
;; Pointers are byte offsets into the memory, aligned to the element size (query vectors: 8 bytes).
;; Loops stop on pointer equality rather than an unsigned comparison so a run that ends exactly at
;; the 4 GiB limit (where the end pointer wraps to 0: a vector slot can) still works.

(module
  (import "env" "memory" (memory 0 65536 shared))

  ;; ((a0+a1)+(b0+b1))+((c0+c1)+(d0+d1)): NumPy's combine of r0..r7.
  (func $combine (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result f64)
    (f64.add
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
        (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b))))
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $c)) (f64x2.extract_lane 1 (local.get $c)))
        (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d))))))

  ;; One float16 (its bits in the low 16 of $bits) as f64, for the tails: the block's decode in
  ;; scalar form.
  (func $half (param $bits i32) (result f64)
    (f64.promote_f32 (f32.mul
      (f32.reinterpret_i32 (i32.or
        (i32.or
          (i32.shl (i32.and (local.get $bits) (i32.const 0x8000)) (i32.const 16))
          (i32.shl (i32.and (local.get $bits) (i32.const 0x7fff)) (i32.const 13)))
        (select (i32.const 0x70000000) (i32.const 0)
          (i32.gt_u (i32.and (local.get $bits) (i32.const 0x7fff)) (i32.const 0x7bff)))))
      (f32.reinterpret_i32 (i32.const 0x77800000)))))
`;

/** The full text of simd.wat. */
export function generateSimdWat(): string {
  const sections = ELEMENT_TYPES.map(
    (t) =>
      `  ;; ${'-'.repeat(93)}\n  ;; ${t.numpy}\n\n${SUMMANDS.map((s) => pairwiseKernel(s, t)).join('\n')}\n${dotKernel(t)}`,
  );
  return `${HEADER}\n${sections.join('\n')})\n`;
}

/** The full text of simd-binary.ts for the given simd.wat text. */
export async function generateSimdBinaryModule(wat?: string): Promise<string> {
  const binary = await assemble(wat ?? (await readFile(WAT_FILE, 'utf8')));
  return (
    '// Generated by `npm run wasm` from simd.wat; do not edit.\n' +
    `export const SIMD_WASM_BASE64 =\n  '${Buffer.from(binary).toString('base64')}';\n`
  );
}

async function main(): Promise<void> {
  const wat = generateSimdWat();
  const binaryModule = await generateSimdBinaryModule(wat);
  if (process.argv.includes('--check')) {
    const committedWat = await readFile(WAT_FILE, 'utf8').catch(() => '');
    const committedModule = await readFile(BINARY_MODULE_FILE, 'utf8').catch(() => '');
    if (committedWat !== wat || committedModule !== binaryModule) {
      process.stderr.write(
        'src/jobs/kernels/simd.wat or simd-binary.ts is out of date with scripts/wasm.ts: run `npm run wasm` and commit the result\n',
      );
      process.exitCode = 1;
    }
  } else {
    await writeFile(WAT_FILE, wat);
    await writeFile(BINARY_MODULE_FILE, binaryModule);
    process.stdout.write(`wrote ${fileURLToPath(WAT_FILE)} and ${fileURLToPath(BINARY_MODULE_FILE)}\n`);
  }
}

// Tests import the generators; only a direct run writes or checks the files.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // wabt's errors carry the offending WAT lines; its minified stack frames would only bury them.
  // No top-level await: the benchmark's workers load this module through tsx's require hook.
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
