import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

/**
 * Builds dist/ when `output` is missing or older than the sources, so the compiled program a test
 * runs (as `npm start` and the CLI do; under tsx each start would spend seconds compiling) is the code.
 */
export async function ensureBuilt(output: string): Promise<void> {
  const built = await stat(output).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built >= (await newest(join(ROOT, 'src')))) return;
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'build', '--silent'], { cwd: ROOT, timeout: 170_000 }, (error, _out, stderr) =>
      error === null ? resolve() : reject(new Error(`npm run build failed: ${stderr}`)),
    );
  });
}
