/**
 * The upload check of a user kernel: compiles the module once and refuses, with a 400 that says what
 * to change, anything that is not a rowpool kernel of ABI v1. Nothing of the module runs here (a
 * start function runs only at instantiation, inside a pool worker under the kernel timeout).
 */
import { createHash } from 'node:crypto';
import { InvalidKernelModule } from './errors.js';
import {
  type FunctionType,
  formatFunctionType,
  type ImportEntry,
  type ModuleSummary,
  readModuleSummary,
  UnsupportedWasm,
} from './wasm-sections.js';

export const KERNEL_ABI_VERSION = 1;
export const WASM_PAGE_BYTES = 65536;
/** ROWPOOL_KERNEL_MEMORY's default: 256 MiB. */
export const DEFAULT_KERNEL_MEMORY_BYTES = 256 * 1024 * 1024;

/** The memory a kernel declares it needs, in 64 KiB pages; rowpool's cap comes on top. */
export interface KernelMemoryRequest {
  readonly minPages: number;
  readonly maxPages: number | null;
}

export interface CheckedKernel {
  /** Compiled once; it can be posted to worker threads, which then never recompile it. */
  readonly module: WebAssembly.Module;
  readonly sha256: string;
  readonly memory: KernelMemoryRequest;
}

const I32_X7: FunctionType = { params: Array(7).fill('i32'), results: ['i32'] };
const REQUIRED_FUNCTIONS: ReadonlyArray<readonly [string, FunctionType]> = [
  ['rowpool_alloc', { params: ['i32'], results: ['i32'] }],
  ['rowpool_rows', I32_X7],
];
const ABORT_TYPE: FunctionType = { params: ['i32', 'i32', 'i32', 'i32'], results: [] };

const HOW_TO_BUILD =
  'Build it with an imported memory and no other imports: AssemblyScript `asc kernel.ts --importMemory ' +
  '--runtime stub -O3`; Rust `cargo build --target wasm32-unknown-unknown --release` with ' +
  'RUSTFLAGS="-C link-arg=--import-memory"; C `clang --target=wasm32 -O3 -nostdlib -Wl,--no-entry ' +
  '-Wl,--import-memory -Wl,--export=rowpool_alloc -Wl,--export=rowpool_rows`.';

const ABI_EXPORTS =
  'A v1 kernel exports rowpool_abi (an i32 global = 1), rowpool_alloc(bytes: i32) -> i32 and ' +
  'rowpool_rows(input, rows, rowLength, firstRow, args, nArgs, output: i32) -> i32. From C or Rust, ' +
  "whose linkers export a static's address rather than its value, merge the global in after linking: " +
  '`wasm-merge kernel.wasm kernel abi.wat abi -o kernel-v1.wasm` with examples/kernels/abi.wat.';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Compiles and checks an uploaded module; throws InvalidKernelModule (a 400) saying what is wrong. */
export function checkKernelModule(
  bytes: Uint8Array,
  memoryCapBytes: number = DEFAULT_KERNEL_MEMORY_BYTES,
): CheckedKernel {
  checkHeader(bytes);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    throw notCompiled(error);
  }
  return inspect(bytes, module, memoryCapBytes);
}

/**
 * The same check with the module compiled off the main thread (`WebAssembly.compile`), so a large
 * upload does not hold up the event loop while V8 compiles it.
 */
export async function compileKernelModule(
  bytes: Uint8Array,
  memoryCapBytes: number = DEFAULT_KERNEL_MEMORY_BYTES,
): Promise<CheckedKernel> {
  checkHeader(bytes);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (error) {
    throw notCompiled(error);
  }
  return inspect(bytes, module, memoryCapBytes);
}

function notCompiled(error: unknown): InvalidKernelModule {
  return new InvalidKernelModule(
    `the module does not compile (truncated or corrupt?): ${error instanceof Error ? error.message : String(error)}`,
  );
}

function inspect(bytes: Uint8Array, module: WebAssembly.Module, memoryCapBytes: number): CheckedKernel {
  let summary: ModuleSummary;
  try {
    summary = readModuleSummary(bytes);
  } catch (error) {
    if (!(error instanceof UnsupportedWasm)) throw error;
    throw new InvalidKernelModule(
      `the module uses a WebAssembly feature outside the kernel ABI v1 (${error.message})`,
    );
  }
  const memory = checkImports(summary, memoryCapBytes);
  checkExports(summary);
  return { module, sha256: createHash('sha256').update(bytes).digest('hex'), memory };
}

function checkHeader(bytes: Uint8Array): void {
  if (bytes.byteLength === 0) {
    throw new InvalidKernelModule(
      'the body is empty; send the .wasm file itself with Content-Type: application/wasm',
    );
  }
  if (bytes.byteLength < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
    const hint = text.startsWith('(module')
      ? ' It looks like WebAssembly text: assemble it first, e.g. with wabt `wat2wasm kernel.wat`.'
      : '';
    throw new InvalidKernelModule(
      `the body is not a WebAssembly module: a .wasm file starts with the bytes 00 61 73 6d ("\\0asm").${hint}`,
    );
  }
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  if (version !== 1) {
    throw new InvalidKernelModule(
      `the module has binary format version 0x${(version >>> 0).toString(16)}; kernels are core WebAssembly modules, version 1 (components are not supported)`,
    );
  }
}

function describeImport(entry: ImportEntry): string {
  if (entry.kind === 'function')
    return `${entry.module}.${entry.name} (function ${formatFunctionType(entry.type)})`;
  if (entry.kind === 'memory') {
    const what = [entry.limits.shared ? 'shared' : '', entry.limits.is64 ? '64-bit' : ''].filter(Boolean);
    return `${entry.module}.${entry.name} (${[...what, 'memory'].join(' ')})`;
  }
  return `${entry.module}.${entry.name} (${entry.kind})`;
}

function isAllowedImport(entry: ImportEntry): boolean {
  if (entry.module !== 'env') return false;
  if (entry.name === 'memory') return entry.kind === 'memory' && !entry.limits.shared && !entry.limits.is64;
  return entry.name === 'abort' && entry.kind === 'function' && sameType(entry.type, ABORT_TYPE);
}

function checkImports(summary: ModuleSummary, memoryCapBytes: number): KernelMemoryRequest {
  const offending = summary.imports.filter((entry) => !isAllowedImport(entry));
  if (offending.length > 0) {
    const shared = offending.some((entry) => entry.kind === 'memory' && entry.limits.shared);
    throw new InvalidKernelModule(
      `the module imports what rowpool does not provide: ${offending.map(describeImport).join(', ')}. ` +
        'A kernel may import only env.memory (a non-shared 32-bit memory) and ' +
        'env.abort(msg: i32, file: i32, line: i32, col: i32). ' +
        (shared ? 'Build without shared memory or threads (no --sharedMemory, no atomics). ' : '') +
        HOW_TO_BUILD,
    );
  }
  if (summary.memories.length > 0) {
    throw new InvalidKernelModule(
      `the module defines its own memory; a kernel imports its memory as env.memory, which rowpool creates and caps. ${HOW_TO_BUILD}`,
    );
  }
  const imported = summary.imports.find((entry) => entry.kind === 'memory');
  if (imported === undefined || imported.kind !== 'memory') {
    throw new InvalidKernelModule(
      `the module has no memory; a kernel imports its memory as env.memory. ${HOW_TO_BUILD}`,
    );
  }
  const capPages = Math.floor(memoryCapBytes / WASM_PAGE_BYTES);
  if (imported.limits.min > capPages) {
    throw new InvalidKernelModule(
      `the module needs at least ${imported.limits.min} pages (${pagesInMib(imported.limits.min)} MiB) of memory, more than ROWPOOL_KERNEL_MEMORY allows (${pagesInMib(capPages)} MiB)`,
    );
  }
  return { minPages: imported.limits.min, maxPages: imported.limits.max };
}

function pagesInMib(pages: number): number {
  return (pages * WASM_PAGE_BYTES) / (1024 * 1024);
}

function checkExports(summary: ModuleSummary): void {
  const problems: string[] = [];
  const byName = new Map(summary.exports.map((entry) => [entry.name, entry]));
  const abi = byName.get('rowpool_abi');
  if (abi === undefined) problems.push('rowpool_abi is missing');
  else if (abi.kind !== 'global') problems.push(`rowpool_abi is a ${abi.kind}, not a global`);
  else {
    const global = summary.globals[abi.index];
    if (global === null || global === undefined || global.type !== 'i32') {
      problems.push(`rowpool_abi is a global of type ${global?.type ?? 'unknown'}, not i32`);
    } else if (global.i32Value === null) {
      problems.push('rowpool_abi is not a constant (its initialiser must be i32.const 1)');
    } else if (global.i32Value !== KERNEL_ABI_VERSION) {
      problems.push(`rowpool_abi is ${global.i32Value}; this rowpool runs ABI version ${KERNEL_ABI_VERSION}`);
    }
  }
  for (const [name, expected] of REQUIRED_FUNCTIONS) {
    const entry = byName.get(name);
    if (entry === undefined) problems.push(`${name} is missing`);
    else if (entry.kind !== 'function') problems.push(`${name} is a ${entry.kind}, not a function`);
    else {
      const actual = summary.functionTypes[entry.index];
      if (actual !== undefined && !sameType(actual, expected)) {
        problems.push(
          `${name} has the signature ${formatFunctionType(actual)}, expected ${formatFunctionType(expected)}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new InvalidKernelModule(
      `the module's exports do not follow the kernel ABI v1: ${problems.join('; ')}. ${ABI_EXPORTS}`,
    );
  }
}

function sameType(a: FunctionType, b: FunctionType): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((type, i) => type === b.params[i]) &&
    a.results.every((type, i) => type === b.results[i])
  );
}
