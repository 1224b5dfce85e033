import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DTYPE_INFO, elementCount } from '../datasets/dtypes.js';
import { MAX_HEADER_BYTES, npyHeaderFor, parseNpyHeader } from '../datasets/npy.js';
import { syncDirectory, TEMP_SUFFIX, unlinkIfPresent, writeDurably } from './durable-file.js';
import { decodeMetadata, encodeMetadata, isDatasetId, type StoredMetadata } from './metadata.js';

/** Largest slice of a dataset handed to one write: a view of the shared buffer, never a copy. */
export const WRITE_SLICE = 8 * 2 ** 20;
/** The longest preamble and header a stored `.npy` can have. */
const HEADER_READ = 12 + MAX_HEADER_BYTES;

/** A dataset on disk whose files are whole and agree with each other. */
export interface StoredDataset {
  readonly meta: StoredMetadata;
  readonly file: string;
  /** The whole `.npy` file's size: header and data. */
  readonly size: number;
}

/** A file removed at start because it could not be a completed dataset. */
export interface DiscardedFile {
  readonly file: string;
  readonly reason: string;
}

/**
 * One directory, two files per dataset: `<id>.npy` (little-endian, C order, exactly what
 * GET /v1/datasets/{id}/data sends) and `<id>.json`, its metadata. The metadata file is written
 * last and removed first, so it is the commit mark: a `.npy` without it is a dataset whose upload
 * never finished (or whose delete did), and is discarded.
 */
export class DatasetFiles {
  constructor(readonly dir: string) {}

  npyPath(id: string): string {
    return path.join(this.dir, `${id}.npy`);
  }

  async ensureDirectory(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /**
   * Writes both files durably; on any failure neither is left behind. `data` is the array's bytes
   * in order, in slices of at most WRITE_SLICE bytes.
   */
  async save(meta: StoredMetadata, data: Iterable<Uint8Array>): Promise<void> {
    const npy = `${meta.id}.npy`;
    try {
      await writeDurably(this.dir, npy, withHeader(npyHeaderFor(meta.dtype, meta.shape), data));
      await writeDurably(this.dir, `${meta.id}.json`, [encodeMetadata(meta)]);
      await syncDirectory(this.dir);
    } catch (err) {
      await this.#forget(meta.id);
      throw err;
    }
  }

  /** Uncommits the dataset durably (its metadata goes first), then removes its data. */
  async remove(id: string): Promise<void> {
    await unlinkIfPresent(path.join(this.dir, `${id}.json`));
    await unlinkIfPresent(this.npyPath(id));
    await syncDirectory(this.dir);
  }

  /** Best effort after a failed save: each file is tried whatever happens to the other. */
  async #forget(id: string): Promise<void> {
    await Promise.allSettled([
      unlinkIfPresent(path.join(this.dir, `${id}.json`)),
      unlinkIfPresent(this.npyPath(id)),
    ]);
  }

  /**
   * Every completed dataset, oldest first; everything a crash can leave half-done (temporary files,
   * data without metadata, metadata without data, a size that disagrees with the header) is removed.
   * Files whose names rowpool never writes are left alone.
   */
  async scan(): Promise<{ stored: StoredDataset[]; discarded: DiscardedFile[] }> {
    const names = new Set(await readdir(this.dir));
    const stored: StoredDataset[] = [];
    const discarded: DiscardedFile[] = [];
    const discard = async (name: string, reason: string) => {
      await unlinkIfPresent(path.join(this.dir, name));
      discarded.push({ file: path.join(this.dir, name), reason });
    };
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) {
        await discard(name, 'a temporary file left by an interrupted write');
        continue;
      }
      const match = /^(.+)\.(npy|json)$/.exec(name);
      if (match === null || !isDatasetId(match[1])) continue;
      const [, id, ext] = match;
      if (ext === 'npy' && !names.has(`${id}.json`)) {
        await discard(name, 'data without metadata: its upload did not complete');
      } else if (ext === 'json' && !names.has(`${id}.npy`)) {
        await discard(name, 'metadata without data');
      } else if (ext === 'json') {
        const checked = await this.#check(id);
        if (typeof checked === 'string') {
          await discard(`${id}.json`, checked);
          await discard(`${id}.npy`, checked);
        } else {
          stored.push(checked);
        }
      }
    }
    if (discarded.length > 0) await syncDirectory(this.dir);
    stored.sort((a, b) => a.meta.createdAt.localeCompare(b.meta.createdAt));
    return { stored, discarded };
  }

  /** The dataset when its metadata and its `.npy` header and size agree, else what is wrong. */
  async #check(id: string): Promise<StoredDataset | string> {
    const meta = decodeMetadata(await readFile(path.join(this.dir, `${id}.json`), 'utf8'), id);
    if (typeof meta === 'string') return meta;
    const file = this.npyPath(id);
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(size, HEADER_READ));
      await handle.read(head, 0, head.length, 0);
      let header: ReturnType<typeof parseNpyHeader>;
      try {
        header = parseNpyHeader(head);
      } catch (err) {
        return `the .npy header cannot be read: ${(err as Error).message}`;
      }
      if (header.bigEndian || header.fortranOrder) return 'the .npy file is not little-endian C order';
      if (header.dtype !== meta.dtype || header.shape.join(',') !== meta.shape.join(',')) {
        return 'the .npy header and the metadata disagree on dtype or shape';
      }
      const bytes = elementCount(header.shape) * DTYPE_INFO[header.dtype].itemsize;
      if (bytes !== meta.bytes || size !== header.dataOffset + bytes) {
        return `the .npy file is ${size} bytes but its header needs ${header.dataOffset + bytes}`;
      }
      return { meta, file, size };
    } finally {
      await handle.close();
    }
  }
}

function* withHeader(header: Uint8Array, data: Iterable<Uint8Array>): Generator<Uint8Array> {
  yield header;
  yield* data;
}
