/**
 * The benchmark measures the compiled service, which has no .d.ts: values come from dist/ through a
 * specifier TypeScript does not resolve, and their types from the matching modules in src/.
 */
import type * as AppModule from '../src/app.js';
import type * as SimdModule from '../src/jobs/kernels/simd.js';

export const distUrl = (path: string): URL => new URL(`../dist/${path}`, import.meta.url);

export async function loadApp(): Promise<typeof AppModule> {
  return (await import(distUrl('app.js').href)) as typeof AppModule;
}

export async function loadSimd(): Promise<typeof SimdModule> {
  return (await import(distUrl('jobs/kernels/simd.js').href)) as typeof SimdModule;
}
