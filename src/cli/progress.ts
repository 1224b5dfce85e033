import cliProgress from 'cli-progress';

/**
 * Progress bars on stderr, so stdout keeps only the command's output. cli-progress draws nothing
 * when stderr is not a terminal, which keeps logs and pipes clean.
 */

export interface Bar {
  update(value: number): void;
  stop(): void;
}

const MIB = 2 ** 20;

function bar(format: string, total: number, payloadOf: (value: number) => Record<string, string>): Bar {
  const progress = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  progress.start(total, 0, payloadOf(0));
  return {
    update: (value) => progress.update(value, payloadOf(value)),
    stop: () => progress.stop(),
  };
}

/** Bytes of an upload, shown in MiB. */
export function bytesBar(total: number): Bar {
  const size = (total / MIB).toFixed(1);
  return bar('uploading {bar} {percentage}% | {sent}/{size} MiB | ETA {eta_formatted}', total, (value) => ({
    sent: (value / MIB).toFixed(1),
    size,
  }));
}

/** Rows of a running job. */
export function rowsBar(op: string, total: number): Bar {
  return bar(`${op} {bar} {percentage}% | {value}/{total} rows | ETA {eta_formatted}`, total, () => ({}));
}
