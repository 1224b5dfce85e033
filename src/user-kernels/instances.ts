/**
 * The kernel instances of this worker thread, one per kernel id, kept between tasks so that a job's
 * chunks (and later jobs) do not instantiate and allocate again. An instance holds its whole memory
 * (up to ROWPOOL_KERNEL_MEMORY), so it is dropped when it faults and when its kernel is deleted.
 */
import { kernelBuffers } from './blocks.js';
import { KernelInstance, type KernelRef } from './runner.js';

const instances = new Map<string, KernelInstance>();

/**
 * This thread's instance of `kernel`, made on first use, and again when the cached one's buffers
 * are too small for these rows and args. Throws a KernelFault when instantiation or allocation
 * fails, and KernelRowsTooLong when the rows cannot fit in the memory at all.
 */
export function kernelInstance(
  kernel: KernelRef,
  rowLength: number,
  nArgs: number,
  memoryCapBytes: number,
): KernelInstance {
  const cached = instances.get(kernel.id);
  if (cached?.fits(rowLength, nArgs)) return cached;
  instances.delete(kernel.id);
  const buffers = kernelBuffers(rowLength, nArgs, memoryCapBytes);
  const instance = new KernelInstance(kernel, buffers, memoryCapBytes, (faulted) => {
    if (instances.get(kernel.id) === faulted) instances.delete(kernel.id);
  });
  instances.set(kernel.id, instance);
  return instance;
}

/** Drops this thread's instance of a kernel (it was deleted), so its memory can be collected. */
export function dropKernelInstance(id: string): void {
  instances.delete(id);
}

/** Drops every instance of this thread, e.g. when the main thread asks workers to free memory. */
export function dropAllKernelInstances(): void {
  instances.clear();
}

/** The ids with a live instance in this thread. */
export function cachedKernelIds(): string[] {
  return [...instances.keys()];
}
