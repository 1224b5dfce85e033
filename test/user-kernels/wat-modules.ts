/**
 * Small kernels in WebAssembly text for the tests, one per way a kernel can be wrong or fail. Each
 * is a valid v1 kernel except for the one part a test is about.
 */
import { assembleWat } from '../../scripts/kernels.js';

export interface KernelParts {
  /** The memory import, or a memory definition for modules that must be refused. */
  memory?: string;
  imports?: string;
  /** The rowpool_abi export; empty to leave it out. */
  abi?: string;
  /** The whole rowpool_rows function; `rows` below is its body in the default one. */
  rowsFunction?: string;
  rows?: string;
  /** The whole allocator: its rowpool_alloc export and any globals it needs. */
  alloc?: string;
  extra?: string;
}

/** A bump allocator that grows the memory as it must and traps when it cannot. */
const ALLOC = `
  (global $next (mut i32) (i32.const 1024))
  (func (export "rowpool_alloc") (param $bytes i32) (result i32)
    (local $start i32) (local $end i32)
    (local.set $start (global.get $next))
    (local.set $end (i32.and (i32.add (i32.add (local.get $start) (local.get $bytes)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size))) (i32.const -1))
        (then unreachable))))
    (global.set $next (local.get $end))
    (local.get $start))`;

const ROWS_PARAMS =
  '(param $input i32) (param $rows i32) (param $n i32) (param $first i32) (param $args i32) (param $nArgs i32) (param $out i32) (result i32)';

export function kernelWat(parts: KernelParts = {}): string {
  const rows =
    parts.rowsFunction ??
    `(func (export "rowpool_rows") ${ROWS_PARAMS} (local $r i32)\n${parts.rows ?? '(i32.const 0)'})`;
  return `(module
  ${parts.memory ?? '(import "env" "memory" (memory 1))'}
  ${parts.imports ?? ''}
  ${parts.abi ?? '(global (export "rowpool_abi") i32 (i32.const 1))'}
  ${parts.alloc ?? ALLOC}
  ${rows}
  ${parts.extra ?? ''})`;
}

export function buildKernel(parts: KernelParts = {}): Promise<Uint8Array> {
  return assembleWat(kernelWat(parts));
}

/** Writes out[r] = firstRow + r + args[0] * input[r * n]: shows every argument reached the kernel. */
export const ROW_INDEX_BODY = `
  (block $done (loop $each
    (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
    (f64.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3)))
      (f64.add
        (f64.convert_i32_s (i32.add (local.get $first) (local.get $r)))
        (f64.mul (f64.load (local.get $args))
          (f64.load (i32.add (local.get $input) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 3)))))))
    (local.set $r (i32.add (local.get $r) (i32.const 1)))
    (br $each)))
  (i32.const 0)`;

/** An AssemblyScript-style string (UTF-16, its byte length in the 4 bytes before it) at `at`. */
function asString(at: number, text: string): string {
  const length = text.length * 2;
  const lengthBytes = [0, 1, 2, 3].map(
    (i) => `\\${((length >> (8 * i)) & 0xff).toString(16).padStart(2, '0')}`,
  );
  const chars = [...text].map((c) => `${c}\\00`).join('');
  return `(data (i32.const ${at - 4}) "${lengthBytes.join('')}${chars}")`;
}

/** Fault modules: each is a valid kernel whose rowpool_rows (or start) goes wrong in one way. */
export const FAULTS = {
  unreachable: { rows: 'unreachable' },
  outOfBounds: { rows: '(drop (i32.load (i32.const -4))) (i32.const 0)' },
  divideByZero: {
    rows: '(drop (i32.div_s (i32.const 1) (i32.sub (local.get $rows) (local.get $rows)))) (i32.const 0)',
  },
  stackOverflow: {
    rows: '(call $deeper (i32.const 0))',
    extra:
      '(func $deeper (param $depth i32) (result i32) (call $deeper (i32.add (local.get $depth) (i32.const 1))))',
  },
  abort: {
    imports: '(import "env" "abort" (func $abort (param i32 i32 i32 i32)))',
    rows: '(call $abort (i32.const 104) (i32.const 204) (i32.const 12) (i32.const 5)) (i32.const 0)',
    extra: `${asString(104, 'row is bad')} ${asString(204, 'kernel.ts')}`,
  },
  errorCode: { rows: '(i32.const 42)' },
  infiniteLoop: { rows: '(loop $forever (br $forever)) (i32.const 0)' },
  infiniteStart: { extra: '(func $spin (loop $forever (br $forever))) (start $spin)' },
  /** Writes what memory.grow of 64 Ki pages (4 GiB) returns into out[0]. */
  growPastCap: {
    rows: '(f64.store (local.get $out) (f64.convert_i32_s (memory.grow (i32.const 65536)))) (i32.const 0)',
  },
} satisfies Record<string, KernelParts>;

/** Modules rowpool must refuse at upload. */
export const REFUSED = {
  wasiImport: {
    imports: '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
  },
  ownMemory: { memory: '(memory (export "memory") 1)' },
  sharedMemory: { memory: '(import "env" "memory" (memory 1 16 shared))' },
  wrongRowsSignature: {
    rowsFunction: '(func (export "rowpool_rows") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))',
  },
  missingAbi: { abi: '' },
  abiTwo: { abi: '(global (export "rowpool_abi") i32 (i32.const 2))' },
} satisfies Record<string, KernelParts>;
