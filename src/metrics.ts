import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the point-in-time gauges read when Prometheus scrapes. */
export interface MetricSources {
  datasets(): { count: number; bytes: number };
  resultBytes(): number;
  memoryLimit(): number;
  jobsActive(): { queued: number; running: number };
  pool(): { threads: number; queueSize: number; utilization: number };
}

/** promtool rejects gauges named `_total`; prom-client 15 ships three of them among its defaults. */
const REJECTED_DEFAULTS = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

/** Jobs over a large dataset can run for many minutes; a top bucket of a minute would put them all in +Inf. */
const SECONDS_1MS_TO_1H = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** How often the event-loop monitor's timer samples; each sample is this long plus the lag. */
const LAG_RESOLUTION_MS = 10;

let monitor: IntervalHistogram | undefined;

/**
 * The event loop is the process's, however many apps it builds (tests build many): one monitor, so
 * closed apps leave no sampling timer behind. Apps in one process share its interval, as a scrape
 * empties it. Its timer does not keep the process alive.
 */
function eventLoopDelay(): IntervalHistogram {
  if (monitor === undefined) {
    monitor = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    monitor.enable();
  }
  return monitor;
}

export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of REJECTED_DEFAULTS) registry.removeSingleMetric(name);

  // Read and emptied at each scrape, so the gauge describes the last scrape interval only: a lag that
  // is over stops showing instead of weighing on a lifetime percentile.
  const lag = eventLoopDelay();
  new Gauge({
    name: 'rowpool_event_loop_lag_seconds',
    help: 'Event-loop lag since the previous scrape: the 99th percentile (stat p99) and the longest (stat max)',
    labelNames: ['stat'] as const,
    registers: [registry],
    collect() {
      // One long block is a single sample: it always shows in the longest, in the p99 only when the
      // interval holds few samples. A `quantile` label would read as a summary, which promtool
      // refuses on a gauge.
      const sampled = lag.count > 0;
      this.set({ stat: 'p99' }, sampled ? lagOf(lag.percentile(99)) : 0);
      this.set({ stat: 'max' }, sampled ? lagOf(lag.max) : 0);
      lag.reset();
    },
  });
  new Gauge({
    name: 'rowpool_datasets',
    help: 'Datasets held in shared memory',
    registers: [registry],
    collect() {
      this.set(sources.datasets().count);
    },
  });
  new Gauge({
    name: 'rowpool_dataset_bytes',
    help: 'Data bytes of all datasets held',
    registers: [registry],
    collect() {
      this.set(sources.datasets().bytes);
    },
  });
  new Gauge({
    name: 'rowpool_result_bytes',
    help: 'Data bytes of all stored job results',
    registers: [registry],
    collect() {
      this.set(sources.resultBytes());
    },
  });
  new Gauge({
    name: 'rowpool_memory_limit_bytes',
    help: 'ROWPOOL_MEMORY_LIMIT: the most bytes datasets, uploads and results may hold together',
    registers: [registry],
    collect() {
      this.set(sources.memoryLimit());
    },
  });
  new Gauge({
    name: 'rowpool_jobs_active',
    help: 'Jobs not yet ended, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const active = sources.jobsActive();
      this.set({ status: 'queued' }, active.queued);
      this.set({ status: 'running' }, active.running);
    },
  });
  new Gauge({
    name: 'rowpool_pool_threads',
    help: 'Worker threads in the pool',
    registers: [registry],
    collect() {
      this.set(sources.pool().threads);
    },
  });
  new Gauge({
    name: 'rowpool_pool_queue_size',
    help: 'Tasks waiting for a worker thread',
    registers: [registry],
    collect() {
      this.set(sources.pool().queueSize);
    },
  });
  new Gauge({
    name: 'rowpool_pool_utilization',
    help: "Share of the pool's thread-time spent running tasks since start (0..1)",
    registers: [registry],
    collect() {
      this.set(sources.pool().utilization);
    },
  });

  return {
    registry,
    ingestedBytes: new Counter({
      name: 'rowpool_ingested_bytes_total',
      help: 'Data bytes stored from uploads, by format',
      labelNames: ['format'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'rowpool_jobs_total',
      help: 'Jobs ended, by op and final status',
      labelNames: ['op', 'status'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'rowpool_job_duration_seconds',
      help: 'Time from a job starting to its end',
      labelNames: ['op'] as const,
      buckets: SECONDS_1MS_TO_1H,
      registers: [registry],
    }),
    rowsProcessed: new Counter({
      name: 'rowpool_rows_processed_total',
      help: 'Rows computed by jobs, by op',
      labelNames: ['op'] as const,
      registers: [registry],
    }),
    taskWait: new Histogram({
      name: 'rowpool_task_wait_seconds',
      help: 'Time a pool task waited for a worker thread',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    taskRun: new Histogram({
      name: 'rowpool_task_run_seconds',
      help: 'Time a pool task ran on a worker thread',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
}

/** A sampled delay in nanoseconds, less the timer's own interval, in seconds. */
function lagOf(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e9 - LAG_RESOLUTION_MS / 1000);
}

export type Metrics = ReturnType<typeof createMetrics>;
