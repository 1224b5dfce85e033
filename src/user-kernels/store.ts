/**
 * The uploaded kernels, by id. Each holds its compiled module (posted to workers as it is, never
 * recompiled) and a reservation of its size against ROWPOOL_MEMORY_LIMIT, given back on delete.
 */
import { randomUUID } from 'node:crypto';
import { KernelNotFound } from '../errors.js';
import type { Reservation } from '../memory.js';
import type { KernelRef } from './runner.js';
import { type CheckedKernel, KERNEL_ABI_VERSION } from './validate.js';

/** A kernel as the API shows it. */
export interface KernelInfo {
  readonly id: string;
  readonly name: string;
  /** Of the uploaded bytes, hex. */
  readonly sha256: string;
  /** The module's size, which is what it holds of ROWPOOL_MEMORY_LIMIT. */
  readonly bytes: number;
  readonly abi: number;
  readonly createdAt: string;
}

export interface Kernel extends KernelInfo {
  readonly ref: KernelRef;
}

type DeleteListener = (kernel: Kernel) => void;

export class KernelStore {
  readonly #kernels = new Map<string, { kernel: Kernel; reservation: Reservation }>();
  readonly #onDelete: DeleteListener[] = [];

  /** Stores a checked module; the reservation (of `bytes`) is the store's to release from now on. */
  add(checked: CheckedKernel, name: string, bytes: number, reservation: Reservation): Kernel {
    const id = randomUUID();
    const kernel: Kernel = {
      id,
      name,
      sha256: checked.sha256,
      bytes,
      abi: KERNEL_ABI_VERSION,
      createdAt: new Date().toISOString(),
      ref: { id, name, module: checked.module, memory: checked.memory },
    };
    this.#kernels.set(id, { kernel, reservation });
    return kernel;
  }

  find(id: string): Kernel | undefined {
    return this.#kernels.get(id)?.kernel;
  }

  get(id: string): Kernel {
    const kernel = this.find(id);
    if (kernel === undefined) throw new KernelNotFound(id);
    return kernel;
  }

  list(): Kernel[] {
    return [...this.#kernels.values()].map((entry) => entry.kernel);
  }

  /** Called with each kernel as it is deleted, before its memory is released. */
  onDelete(listener: DeleteListener): void {
    this.#onDelete.push(listener);
  }

  delete(id: string): Kernel {
    const entry = this.#kernels.get(id);
    if (entry === undefined) throw new KernelNotFound(id);
    this.#kernels.delete(id);
    for (const listener of this.#onDelete) listener(entry.kernel);
    entry.reservation.release();
    return entry.kernel;
  }
}

export function kernelInfo(kernel: Kernel): KernelInfo {
  const { id, name, sha256, bytes, abi, createdAt } = kernel;
  return { id, name, sha256, bytes, abi, createdAt };
}
