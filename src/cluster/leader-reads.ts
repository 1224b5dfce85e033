import { createHash } from 'node:crypto';
import type { JetStreamManager, NextMsgRequest, SeqMsgRequest } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';

/*
 * Reads of the buckets that go to each stream's leader as plain API requests, never through a
 * consumer. KV.keys() and ObjectStore.get() each create an ephemeral consumer, and with one server
 * of a NATS cluster down, nats-server 2.9 places about half of those on the lost server: each such
 * read times out after 5 s for as long as it is down. A stream's leader is always on a live server.
 */

/** The keys of one KV bucket: deleted keys too, which read back as deleted. */
export type KeyLister = () => Promise<string[]>;

/**
 * An object's bytes, or null when there is no such object; `into` gives the memory to read them into,
 * told their size (a fresh array by default).
 */
export type ObjectReader = (name: string, into?: (size: number) => Uint8Array) => Promise<Uint8Array | null>;

/** Lists a KV bucket's keys from its stream's per-subject counts (a consumer's replay may repeat one). */
export function keyLister(jsm: JetStreamManager, bucket: string): KeyLister {
  const prefix = `$KV.${bucket}.`;
  return async () => {
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  };
}

/** Reads an object chunk by chunk, each the next message on its chunk subject, checking its digest. */
export function objectReader(objects: ObjectStore, jsm: JetStreamManager, bucket: string): ObjectReader {
  return async (name, into = (size) => new Uint8Array(size)) => {
    const info = await objects.info(name);
    if (info === null || info.deleted) return null;
    const subject = `$O.${bucket}.C.${info.nuid}`;
    const out = into(info.size);
    const sha = createHash('sha256');
    let at = 0;
    let seq = 0;
    for (let i = 0; i < info.chunks; i++) {
      const query: SeqMsgRequest & NextMsgRequest = { seq: seq + 1, next_by_subj: subject };
      const chunk = await jsm.streams.getMessage(`OBJ_${bucket}`, query);
      if (chunk === null || at + chunk.data.length > info.size) {
        throw new Error(
          `object ${name} has ${chunk === null ? 'fewer' : 'more'} chunks than its ${info.chunks}`,
        );
      }
      out.set(chunk.data, at);
      sha.update(chunk.data);
      at += chunk.data.length;
      seq = chunk.seq;
    }
    // NATS writes the digest as padded base64url.
    const digest = `SHA-256=${sha.digest('base64url')}`;
    if (at !== info.size || digest.replace(/=+$/, '') !== info.digest.replace(/=+$/, '')) {
      throw new Error(`object ${name} does not match its size and digest`);
    }
    return out;
  };
}
