import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DatasetFiles } from '../../src/persistence/dataset-files.js';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rowpool-write-fail-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const meta = (id: string) => ({
  version: 1 as const,
  id,
  name: 'x',
  dtype: 'float64' as const,
  shape: [4],
  bytes: 32,
  createdAt: new Date().toISOString(),
});

describe('a dataset that cannot be written', () => {
  test('is a 5xx, holds no memory and leaves no file', async () => {
    const dataDir = join(dir, 'data');
    const app = await testApp({ dataDir });
    try {
      // The directory is replaced by a file: every write into it fails.
      rmSync(dataDir, { recursive: true });
      writeFileSync(dataDir, '');
      const res = await app.inject({
        method: 'POST',
        url: '/v1/datasets?name=doomed',
        headers: { 'content-type': 'application/x-npy' },
        payload: npyFile('<f8', [4], new Uint8Array(32)),
      });
      expect(res.statusCode).toBe(500);
      const listed = (await app.inject({ method: 'GET', url: '/v1/datasets' })).json();
      expect(listed.datasets).toEqual([]);
      expect(listed.memory.usedBytes).toBe(0);
    } finally {
      await app.close();
    }
  });

  test('whose metadata fails after its data was written leaves neither file', async () => {
    const files = new DatasetFiles(dir);
    const id = randomUUID();
    // A directory where the metadata file should go makes its rename fail.
    mkdirSync(join(dir, `${id}.json`));
    await expect(files.save(meta(id), [new Uint8Array(32)])).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([`${id}.json`]);
  });

  test('scan keeps whole datasets and drops a size that disagrees with the header', async () => {
    const files = new DatasetFiles(dir);
    const whole = randomUUID();
    const short = randomUUID();
    await files.save(meta(whole), [new Uint8Array(32)]);
    await files.save(meta(short), [new Uint8Array(32)]);
    writeFileSync(join(dir, `${short}.npy`), npyFile('<f8', [4], new Uint8Array(40)));
    const { stored, discarded } = await files.scan();
    expect(stored.map((s) => s.meta.id)).toEqual([whole]);
    expect(discarded.map((d) => d.reason)).toEqual([
      expect.stringMatching(/bytes but its header needs/),
      expect.stringMatching(/bytes but its header needs/),
    ]);
    expect(readdirSync(dir).sort()).toEqual([`${whole}.json`, `${whole}.npy`]);
  });
});
