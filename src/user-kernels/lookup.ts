/**
 * What the main thread's kernel op needs from the app: the uploaded kernels by id and the limits a
 * kernel job runs under. The app hands it to the job engine, which passes it to every op's check and
 * prepare, so the op finds kernels without importing app state (each app has its own store).
 */
import type { KernelRef } from './runner.js';

export interface KernelLookup {
  /** The kernel with this id, or undefined when there is none. */
  find(id: string): KernelRef | undefined;
  /** ROWPOOL_KERNEL_MEMORY: the memory cap of each instance. */
  readonly memoryCapBytes: number;
  /** ROWPOOL_KERNEL_TIMEOUT in milliseconds: how long a job may run unless it says otherwise. */
  readonly defaultTimeoutMs: number;
}
