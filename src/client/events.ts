import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { Job, Progress } from './types.js';

/** What GET /v1/jobs/{id}/events sends: progress while the job runs, then its end state. */
export type JobEvent =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'end'; readonly job: Job };

/** The job events in a text/event-stream body, in order; other event types are skipped. */
export async function* jobEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<JobEvent> {
  const messages = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const message of messages) {
    if (message.event === 'progress')
      yield { type: 'progress', progress: JSON.parse(message.data) as Progress };
    else if (message.event === 'end') yield { type: 'end', job: JSON.parse(message.data) as Job };
  }
}
