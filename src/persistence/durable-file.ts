import { randomUUID } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** The suffix of a file still being written; such a file is never read back, only removed. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Writes a file so that after a crash it is either whole or absent under its final name: the bytes go
 * to a temporary name, are flushed to the disk, and only then renamed. The rename itself is durable
 * once the directory is synced (syncDirectory), which the caller does once for a group of files.
 */
export async function writeDurably(dir: string, name: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const temp = path.join(dir, `${name}.${randomUUID()}${TEMP_SUFFIX}`);
  const file = await open(temp, 'wx');
  try {
    try {
      for (const chunk of chunks) {
        let at = 0;
        while (at < chunk.byteLength) {
          const { bytesWritten } = await file.write(chunk, at, chunk.byteLength - at);
          at += bytesWritten;
        }
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path.join(dir, name));
  } catch (err) {
    await unlinkIfPresent(temp);
    throw err;
  }
}

/** Makes the directory's entries (renames, unlinks) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file; one that is already gone is not an error. */
export async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
