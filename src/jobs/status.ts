/** A job's states; a job moves only forward through them. Importing this costs nothing else. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type EndStatus = 'succeeded' | 'failed' | 'cancelled';

export function isEnded(status: JobStatus): status is EndStatus {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}
