import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A worker module beside the calling module: `.ts` under tsx and vitest, `.js` in compiled output.
 * Worker threads load through plain Node, not the test runner's transform, so a `.ts` worker gets
 * tsx through its execArgv.
 */
export function workerBeside(name: string, callerUrl: string): URL {
  return new URL(`./${name}${extname(fileURLToPath(callerUrl))}`, callerUrl);
}

export function workerExecArgv(file: URL): string[] {
  return fileURLToPath(file).endsWith('.ts') ? ['--import', 'tsx'] : [];
}
