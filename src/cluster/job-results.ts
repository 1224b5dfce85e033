import type { ObjectStore } from '@nats-io/obj';
import { InsufficientMemory, JobNotFound, ServiceUnavailable } from '../errors.js';
import type { JobResult } from '../jobs/job.js';
import type { TopK } from '../jobs/topk.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import type { ClusterJobRecord } from './job-entry.js';
import type { ObjectReader } from './leader-reads.js';

/** Bytes a ranked row takes in a stored top-k result: its index (<i8) and its value (<f8). */
const TOP_ROW_BYTES = 16;

/** A top-k as stored: (index <i8, value <f8) little-endian, best first, as its .npy records are. */
export function encodeTop({ indices, values }: TopK): Uint8Array {
  const view = new DataView(new ArrayBuffer(indices.length * TOP_ROW_BYTES));
  for (let i = 0; i < indices.length; i++) {
    view.setBigInt64(i * TOP_ROW_BYTES, BigInt(indices[i]), true);
    view.setFloat64(i * TOP_ROW_BYTES + 8, values[i], true);
  }
  return new Uint8Array(view.buffer);
}

function decodeTop(bytes: Uint8Array): TopK {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = bytes.byteLength / TOP_ROW_BYTES;
  const indices = new Array<number>(rows);
  const values = new Array<number>(rows);
  for (let i = 0; i < rows; i++) {
    indices[i] = Number(view.getBigInt64(i * TOP_ROW_BYTES, true));
    values[i] = view.getFloat64(i * TOP_ROW_BYTES + 8, true);
  }
  return { indices, values };
}

/**
 * Results in the `rowpool-results` object store, one object per succeeded job named by its id,
 * so every node reads the same bytes. A reader fetches the whole result for its request, counted
 * in its memory limit until the response ends, as a single node counts a download.
 */
export class JobResults {
  constructor(
    readonly objects: ObjectStore,
    readonly read: ObjectReader,
    readonly budget: MemoryBudget,
  ) {}

  async put(id: string, bytes: Uint8Array): Promise<void> {
    await this.objects.putBlob({ name: id }, bytes);
  }

  /** Removing an object that is not there is no error. */
  async delete(id: string): Promise<void> {
    await this.objects.delete(id);
  }

  /** The result of a succeeded job and the reservation that counts it until released. */
  async hold(job: ClusterJobRecord): Promise<{ result: JobResult; hold: Reservation }> {
    const bytes = job.stored.resultBytes ?? 0;
    let hold: Reservation;
    try {
      hold = this.budget.reserve(bytes, `reading job ${job.id}'s result`);
    } catch (err) {
      // 413 says the request asks too much; this one fits once other downloads have ended.
      if (err instanceof InsufficientMemory) {
        throw new ServiceUnavailable(`${err.message}; try again once other downloads have ended`);
      }
      throw err;
    }
    try {
      const buffer = await this.#read(job.id, bytes);
      const result: JobResult =
        job.top === undefined
          ? { dtype: job.op.result, buffer, top: undefined, batch: undefined }
          : {
              dtype: job.op.result,
              buffer: undefined,
              top: decodeTop(new Uint8Array(buffer)),
              batch: undefined,
            };
      return { result, hold };
    } catch (err) {
      hold.release();
      throw err;
    }
  }

  /** The object's bytes, read into memory the result formats can read. */
  async #read(id: string, bytes: number): Promise<SharedArrayBuffer> {
    const buffer = new SharedArrayBuffer(bytes);
    const found = await this.read(id, (size) => {
      if (size !== bytes) {
        throw new Error(
          `the result of job ${id} in the object store is ${size} bytes; its record says ${bytes}`,
        );
      }
      return new Uint8Array(buffer);
    });
    // Deleted between reading its record and its result.
    if (found === null) throw new JobNotFound(id);
    return buffer;
  }
}
