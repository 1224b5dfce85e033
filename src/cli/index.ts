#!/usr/bin/env node
import { program } from './program.js';

/** Exit codes: 0 when the command did what it says, 1 on a usage or server error (message on stderr). */

/** The error's message, plus the reason underneath a network failure (fetch says only "fetch failed"). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error
      ? `: ${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message}`
      : '';
  return `${error.message}${cause}`;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`rowpool: ${describe(error)}\n`);
  process.exitCode = 1;
}
