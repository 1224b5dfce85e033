import { readFileSync } from 'node:fs';
import http from 'node:http';

/*
 * The other end of prober.ts, run as its own process so that nothing the test does (uploading,
 * downloading, parsing) delays its timings: polls /healthz on `port` every `interval` ms over one
 * kept-alive connection until told to stop. Around each poll it reads, from /proc, the CPU time of
 * process `pid`'s main thread, and samples the process's resident set.
 */
const [port, pid, interval] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const PAGE_BYTES = 4096;
/** /proc counts CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

function healthz(): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`/healthz answered ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

/** The main thread's user and system CPU time in ms, or undefined where /proc has none. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may hold spaces: utime is the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Resident bytes, or 0 where /proc has none. */
function rss(): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

let running = true;
process.on('message', () => {
  running = false;
});

// The first answer opens the connection: not the server's latency.
await healthz();
const rssBefore = rss();
process.send?.({ ready: true });
const probes: { ms: number; cpuMs: number | undefined }[] = [];
let peakRss = rssBefore;
while (running) {
  const cpuBefore = mainThreadCpuMs();
  const start = performance.now();
  await healthz();
  const ms = performance.now() - start;
  const cpuAfter = mainThreadCpuMs();
  probes.push({
    ms,
    cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  });
  peakRss = Math.max(peakRss, rss());
  await new Promise((resolve) => setTimeout(resolve, interval));
}
probes.sort((a, b) => b.ms - a.ms);
process.send?.({ probes, rssBefore, peakRss }, () => process.exit(0));
