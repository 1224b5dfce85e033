import { readFileSync } from 'node:fs';
import http from 'node:http';

/*
 * The other end of prober.ts, run as its own process so that nothing the test does (uploading,
 * downloading, parsing) delays its timings: polls /healthz on `port` every `interval` ms over one
 * kept-alive connection and samples the resident set of process `pid`, until told to stop.
 */
const [port, pid, interval] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const PAGE = 4096;

function healthz(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(performance.now() - start)
            : reject(new Error(`/healthz answered ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

/** Resident bytes from /proc (Linux), or 0 where there is none. */
function rss(): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE;
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
process.send!({ ready: true });
const latencies: number[] = [];
let peakRss = rssBefore;
while (running) {
  latencies.push(await healthz());
  peakRss = Math.max(peakRss, rss());
  await new Promise((resolve) => setTimeout(resolve, interval));
}
latencies.sort((a, b) => b - a);
process.send!(
  { worst: latencies[0] ?? 0, slowest: latencies.slice(0, 5), count: latencies.length, rssBefore, peakRss },
  () => process.exit(0),
);
