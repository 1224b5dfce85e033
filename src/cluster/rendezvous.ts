import { createHash } from 'node:crypto';

/** The weight of a node for a key: a hash of both, the same on every node. */
function weight(node: string, key: string): bigint {
  return createHash('sha256').update(node).update('\0').update(key).digest().readBigUInt64BE(0);
}

/**
 * The `replicas` nodes that own `key`, best first, by rendezvous (highest random weight) hashing:
 * every node computes the same owners from the same member list, and when a node leaves or joins
 * only the keys it owned (or will own) move.
 */
export function owners(key: string, nodes: readonly string[], replicas: number): string[] {
  return [...new Set(nodes)]
    .map((node) => ({ node, w: weight(node, key) }))
    .sort((a, b) => (a.w === b.w ? a.node.localeCompare(b.node) : a.w > b.w ? -1 : 1))
    .slice(0, Math.max(0, replicas))
    .map((o) => o.node);
}
