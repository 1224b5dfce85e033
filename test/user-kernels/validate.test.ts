import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { assembleWat, buildExample } from '../../scripts/kernels.js';
import { InvalidKernelModule } from '../../src/user-kernels/errors.js';
import { checkKernelModule } from '../../src/user-kernels/validate.js';
import { buildKernel, type KernelParts, kernelWat, REFUSED } from './wat-modules.js';

function refusal(bytes: Uint8Array, cap?: number): InvalidKernelModule {
  try {
    checkKernelModule(bytes, cap);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKernelModule);
    expect((error as InvalidKernelModule).statusCode).toBe(400);
    expect((error as InvalidKernelModule).code).toBe('ROWPOOL_INVALID_KERNEL');
    return error as InvalidKernelModule;
  }
  throw new Error('the module was accepted');
}

async function refusalOf(parts: KernelParts): Promise<string> {
  return refusal(await buildKernel(parts)).message;
}

describe('checkKernelModule accepts v1 kernels', () => {
  let longestRun: Uint8Array;
  beforeAll(async () => {
    longestRun = await buildExample('longest-run.ts');
  });

  it.each(['longest-run.ts', 'row-sum.ts', 'count-above.wat'] as const)('the example %s', async (name) => {
    const bytes = await buildExample(name);
    const checked = checkKernelModule(bytes);
    expect(checked.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(checked.module).toBeInstanceOf(WebAssembly.Module);
    expect(checked.memory).toEqual({ minPages: 1, maxPages: null });
  });

  it('reports the memory limits the module declares', async () => {
    const checked = checkKernelModule(await buildKernel({ memory: '(import "env" "memory" (memory 3 40))' }));
    expect(checked.memory).toEqual({ minPages: 3, maxPages: 40 });
  });

  it('a kernel without rowpool_abi gets it from abi.wat with wasm-merge, as the README says for C and Rust', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rowpool-abi-'));
    try {
      await writeFile(join(dir, 'kernel.wasm'), await buildKernel({ abi: '' }));
      const wasmMerge = fileURLToPath(new URL('../../node_modules/binaryen/bin/wasm-merge', import.meta.url));
      const abiWat = fileURLToPath(new URL('../../examples/kernels/abi.wat', import.meta.url));
      await promisify(execFile)(process.execPath, [
        wasmMerge,
        join(dir, 'kernel.wasm'),
        'kernel',
        abiWat,
        'abi',
        '-o',
        join(dir, 'kernel-v1.wasm'),
      ]);
      expect(checkKernelModule(await readFile(join(dir, 'kernel-v1.wasm'))).memory.minPages).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a truncated copy of a good module is refused as not compiling', () => {
    const message = refusal(longestRun.subarray(0, longestRun.byteLength - 20)).message;
    expect(message).toMatch(/^the module does not compile \(truncated or corrupt\?\): /);
  });
});

describe('checkKernelModule refuses', () => {
  it('an empty body', () => {
    expect(refusal(new Uint8Array(0)).message).toMatch(/^the body is empty/);
  });

  it('bytes that are not wasm', () => {
    const message = refusal(new TextEncoder().encode('hello, this is not a module')).message;
    expect(message).toMatch(/^the body is not a WebAssembly module/);
    expect(message).not.toMatch(/wat2wasm/);
  });

  it('WebAssembly text, with the hint to assemble it', () => {
    const message = refusal(new TextEncoder().encode(kernelWat())).message;
    expect(message).toMatch(/^the body is not a WebAssembly module.*wat2wasm kernel\.wat/);
  });

  it('a binary of another format version', () => {
    const bytes = Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0);
    expect(refusal(bytes).message).toMatch(/version 0x1000d; kernels are core WebAssembly modules/);
  });

  it('an import of wasi_snapshot_preview1.fd_write, listing it and saying how to build', async () => {
    const message = await refusalOf(REFUSED.wasiImport);
    expect(message).toContain(
      'imports what rowpool does not provide: wasi_snapshot_preview1.fd_write (function (i32, i32, i32, i32) -> i32).',
    );
    expect(message).toContain('asc kernel.ts --importMemory');
    expect(message).toContain('-C link-arg=--import-memory');
    expect(message).toContain('-Wl,--import-memory');
  });

  it('every offending import at once, an abort of the wrong type among them', async () => {
    const message = await refusalOf({
      imports:
        '(import "env" "abort" (func (param i32))) (import "env" "seed" (func (result f64))) (import "env" "g" (global i32))',
    });
    expect(message).toContain(
      'does not provide: env.abort (function (i32) -> ()), env.seed (function () -> f64), env.g (global).',
    );
  });

  it('a module that defines its own memory', async () => {
    expect(await refusalOf(REFUSED.ownMemory)).toMatch(
      /^the module defines its own memory; a kernel imports its memory as env\.memory.*--importMemory/,
    );
  });

  it('a shared memory import', async () => {
    const message = await refusalOf(REFUSED.sharedMemory);
    expect(message).toContain('does not provide: env.memory (shared memory).');
    expect(message).toContain('Build without shared memory or threads');
  });

  it('a memory imported under another name', async () => {
    const message = await refusalOf({ memory: '(import "js" "mem" (memory 1))' });
    expect(message).toContain('does not provide: js.mem (memory).');
  });

  it('a module with no memory at all', async () => {
    const bytes = await assembleWat(`(module
      (global (export "rowpool_abi") i32 (i32.const 1))
      (func (export "rowpool_alloc") (param i32) (result i32) (i32.const 0))
      (func (export "rowpool_rows") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0)))`);
    expect(refusal(bytes).message).toMatch(
      /^the module has no memory; a kernel imports its memory as env\.memory/,
    );
  });

  it('a module that needs more memory than the cap', async () => {
    const bytes = await buildKernel({ memory: '(import "env" "memory" (memory 20))' });
    expect(refusal(bytes, 16 * 65536).message).toBe(
      'the module needs at least 20 pages (1.25 MiB) of memory, more than ROWPOOL_KERNEL_MEMORY allows (1 MiB)',
    );
  });

  it('rowpool_rows with the wrong signature, naming both', async () => {
    expect(await refusalOf(REFUSED.wrongRowsSignature)).toContain(
      'rowpool_rows has the signature (i32, i32, i32, i32, i32, i32) -> i32, expected (i32, i32, i32, i32, i32, i32, i32) -> i32.',
    );
  });

  it('a missing rowpool_abi', async () => {
    expect(await refusalOf(REFUSED.missingAbi)).toMatch(
      /^the module's exports do not follow the kernel ABI v1: rowpool_abi is missing\. A v1 kernel exports.* merge the global in after linking: `wasm-merge kernel\.wasm kernel abi\.wat abi -o kernel-v1\.wasm`/,
    );
  });

  it('rowpool_abi = 2', async () => {
    expect(await refusalOf(REFUSED.abiTwo)).toContain('rowpool_abi is 2; this rowpool runs ABI version 1');
  });

  it('rowpool_abi of the wrong type or kind', async () => {
    expect(await refusalOf({ abi: '(global (export "rowpool_abi") i64 (i64.const 1))' })).toContain(
      'rowpool_abi is a global of type i64, not i32',
    );
    expect(await refusalOf({ abi: '(func (export "rowpool_abi") (result i32) (i32.const 1))' })).toContain(
      'rowpool_abi is a function, not a global',
    );
  });

  it('every missing or mistyped export, named together', async () => {
    const message = await refusalOf({
      abi: '',
      rowsFunction: '(func (export "rowpool_rows") (param f64) (result f64) (local.get 0))',
    });
    expect(message).toContain(
      'rowpool_abi is missing; rowpool_rows has the signature (f64) -> f64, expected (i32, i32, i32, i32, i32, i32, i32) -> i32.',
    );
  });
});
