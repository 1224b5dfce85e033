import type { JobRecord } from '../jobs/job.js';
import { isEnded, type JobStatus } from '../jobs/status.js';
import type { OpDefinition } from '../ops/op.js';
import { opNamed } from '../ops/registry.js';

/**
 * A job as the cluster keeps it: one entry of the `rowpool-jobs` bucket, keyed by the job's id,
 * holding what GET /v1/jobs/{id} shows and the node that coordinates it.
 */
export interface StoredJob {
  readonly version: 1;
  readonly id: string;
  readonly coordinator: string;
  readonly datasetId: string;
  readonly op: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly rows: { readonly start: number; readonly end: number };
  readonly top: { readonly k: number; readonly largest: boolean } | null;
  readonly status: JobStatus;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly rowsDone: number;
  /** Bytes of the result object, set with status "succeeded" once that object is stored. */
  readonly resultBytes: number | null;
}

/** Job ids are UUIDs; anything else cannot be a key of the bucket, so no job has it. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

export function encodeJob(job: StoredJob): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(job));
}

/**
 * A job read from the bucket, as the routes read a record. It is a snapshot that waiting refreshes
 * in place (ClusterJobs.waitFor), as a single node's record changes in place while the job runs.
 */
export class ClusterJobRecord implements JobRecord {
  #stored: StoredJob;
  #op: OpDefinition;
  #revision: number;

  constructor(stored: StoredJob, revision: number) {
    this.#stored = stored;
    this.#op = opNamed(stored.op);
    this.#revision = revision;
  }

  get stored(): StoredJob {
    return this.#stored;
  }

  /** The bucket's revision of the entry this snapshot was read from, for compare-and-set writes. */
  get revision(): number {
    return this.#revision;
  }

  refresh(stored: StoredJob, revision: number): void {
    this.#stored = stored;
    this.#revision = revision;
  }

  /** The entry was deleted: a job deleted before it ended was cancelled by that request. */
  forgotten(): void {
    if (isEnded(this.#stored.status)) return;
    this.#stored = {
      ...this.#stored,
      status: 'cancelled',
      finishedAt: new Date().toISOString(),
      error: 'cancelled by request',
    };
  }

  get id(): string {
    return this.#stored.id;
  }
  /** Paging orders cluster jobs by creation time, then id (job-pages.ts). */
  get seq(): number {
    return Date.parse(this.#stored.createdAt);
  }
  get datasetId(): string {
    return this.#stored.datasetId;
  }
  get op(): OpDefinition {
    return this.#op;
  }
  get params(): Readonly<Record<string, unknown>> {
    return this.#stored.params;
  }
  get rows(): { readonly start: number; readonly end: number } {
    return this.#stored.rows;
  }
  get top(): { readonly k: number; readonly largest: boolean } | undefined {
    return this.#stored.top ?? undefined;
  }
  get status(): JobStatus {
    return this.#stored.status;
  }
  get createdAt(): string {
    return this.#stored.createdAt;
  }
  get startedAt(): string | null {
    return this.#stored.startedAt;
  }
  get finishedAt(): string | null {
    return this.#stored.finishedAt;
  }
  get error(): string | undefined {
    return this.#stored.error ?? undefined;
  }
  get coordinator(): string {
    return this.#stored.coordinator;
  }
  rowsDone(): number {
    return this.#stored.rowsDone;
  }
}
