import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROCESS = fileURLToPath(new URL('./prober-process.ts', import.meta.url));

/** What a prober saw between its start and its stop. */
export interface Probed {
  /** The slowest /healthz answer, in ms. */
  readonly worst: number;
  /** The five slowest, slowest first, each with the server's main-thread CPU time while it waited. */
  readonly slowest: readonly string[];
  /**
   * The longest any answer was held by the server itself: for each answer, the lesser of its time
   * and the CPU time the server's main thread had meanwhile, in ms. A loop held by code runs on a
   * CPU all along; a server waiting for a CPU on a loaded machine does not (Linux; elsewhere this is
   * `worst`).
   */
  readonly held: number;
  /** How many answers were timed. */
  readonly count: number;
  /** The server's resident set when probing began and at its largest since (0 off Linux). */
  readonly rssBefore: number;
  readonly peakRss: number;
}

interface Probe {
  readonly ms: number;
  readonly cpuMs: number | undefined;
}

/**
 * Times /healthz from a process of its own, so the latency is the server's and not that of a client
 * sharing an event loop with the work it watches. Resolves once the first answer has come back;
 * `stop` answers what it saw.
 */
export async function startProber(
  port: number,
  serverPid: number,
  intervalMs = 50,
): Promise<{ stop(): Promise<Probed> }> {
  const child = fork(PROCESS, [String(port), String(serverPid), String(intervalMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await reply(child);
  return {
    async stop() {
      const answer = reply(child);
      child.send('stop');
      const { probes, rssBefore, peakRss } = (await answer) as {
        probes: Probe[];
        rssBefore: number;
        peakRss: number;
      };
      return {
        worst: probes[0]?.ms ?? 0,
        slowest: probes.slice(0, 5).map((p) => `${p.ms.toFixed(0)} ms (CPU ${p.cpuMs ?? '?'} ms)`),
        held: Math.max(0, ...probes.map((p) => Math.min(p.ms, p.cpuMs ?? p.ms))),
        count: probes.length,
        rssBefore,
        peakRss,
      };
    },
  };
}

/** The child's next message; an exit before it is an error. */
function reply(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`the /healthz prober exited with ${code}`));
    child.once('exit', exited);
    child.once('message', (message) => {
      child.off('exit', exited);
      resolve(message);
    });
  });
}

/**
 * The longest event-loop delay the server itself saw since `metrics` was last read
 * (rowpool_event_loop_lag_seconds{stat="max"}, which each read empties), in ms.
 */
export async function serverLagMs(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^rowpool_event_loop_lag_seconds\{stat="max"\} (\S+)$/m.exec(text);
  if (match === null) throw new Error('/metrics has no rowpool_event_loop_lag_seconds{stat="max"}');
  return Number(match[1]) * 1000;
}
