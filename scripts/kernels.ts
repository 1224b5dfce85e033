/**
 * Builds the example kernels of examples/kernels/ into examples/kernels/build/: `npm run kernels`.
 * AssemblyScript goes through the `assemblyscript` compiler, WebAssembly text through wabt; both
 * run in-process, and the tests call the same functions to build the examples from source.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import wabt from 'wabt';

export const EXAMPLES_DIR = new URL('../examples/kernels/', import.meta.url);
export const EXAMPLE_SOURCES = ['longest-run.ts', 'row-sum.ts', 'count-above.wat'] as const;

/**
 * The flags every AssemblyScript kernel needs: the memory comes from rowpool (`env.memory`), and the
 * stub runtime is a bump allocator with no garbage collector, which is all `rowpool_alloc` needs.
 */
export const ASC_FLAGS = ['--importMemory', '--runtime', 'stub', '-O3'] as const;

/** Compiles one AssemblyScript file to a wasm binary; throws with the compiler's diagnostics. */
export async function compileAssemblyScript(file: string): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const diagnostics: string[] = [];
  const { error } = await asc.main([file, '--outFile', 'kernel.wasm', ...ASC_FLAGS], {
    writeFile(name, contents) {
      if (name.endsWith('kernel.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (text: string | Uint8Array) => diagnostics.push(String(text)) },
    stderr: { write: (text: string | Uint8Array) => diagnostics.push(String(text)) },
  } as Parameters<typeof asc.main>[1]);
  if (error !== null || binary === undefined) {
    throw new Error(
      `asc could not compile ${file}: ${error?.message ?? 'no output'}\n${diagnostics.join('')}`,
    );
  }
  return binary;
}

/** Assembles WebAssembly text into a binary; throws with wabt's messages when it is not valid. */
export async function assembleWat(source: string, filename = 'kernel.wat'): Promise<Uint8Array> {
  const toolkit = await wabt();
  // Threads are on so that test modules may declare a shared memory, which rowpool must refuse.
  const features = { threads: true, simd: true };
  const module = toolkit.parseWat(filename, source, features);
  try {
    // wabt.js's validate takes the feature set too, though its typings do not say so.
    (module as unknown as { validate(f: typeof features): void }).validate(features);
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** Builds one example from examples/kernels/ by its file name. */
export async function buildExample(name: (typeof EXAMPLE_SOURCES)[number]): Promise<Uint8Array> {
  const path = fileURLToPath(new URL(name, EXAMPLES_DIR));
  return extname(name) === '.wat'
    ? assembleWat(await readFile(path, 'utf8'), name)
    : compileAssemblyScript(path);
}

async function main(): Promise<void> {
  const outDir = new URL('build/', EXAMPLES_DIR);
  await mkdir(outDir, { recursive: true });
  for (const name of EXAMPLE_SOURCES) {
    const out = new URL(`${basename(name, extname(name))}.wasm`, outDir);
    const binary = await buildExample(name);
    await writeFile(out, binary);
    process.stdout.write(`wrote ${fileURLToPath(out)} (${binary.byteLength} bytes)\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
