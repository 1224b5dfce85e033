import { describe, expect, test } from 'vitest';
import { owners } from '../../src/cluster/rendezvous.js';
import { planShards, shardRowsFor } from '../../src/cluster/shards.js';

describe('planShards', () => {
  test('cuts at row boundaries, covers every row once, and keeps each shard under the bound', () => {
    const shards = planShards(1000, 24, 1000);
    expect(shards[0]).toEqual({ index: 0, start: 0, end: 41, byteOffset: 0, bytes: 984 });
    expect(shards.at(-1)?.end).toBe(1000);
    for (let i = 1; i < shards.length; i++) {
      expect(shards[i].start).toBe(shards[i - 1].end);
      expect(shards[i].byteOffset).toBe(shards[i].start * 24);
    }
    expect(shards.every((s) => s.bytes <= 1000 && s.bytes === (s.end - s.start) * 24)).toBe(true);
    expect(shards.reduce((n, s) => n + s.bytes, 0)).toBe(24_000);
  });

  test('a row wider than the bound is a shard of its own; an empty dataset is one empty shard', () => {
    expect(planShards(3, 5000, 1000).map((s) => [s.start, s.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(planShards(0, 8, 1000)).toEqual([{ index: 0, start: 0, end: 0, byteOffset: 0, bytes: 0 }]);
    expect(planShards(7, 0, 1000)).toHaveLength(1);
    expect(() => planShards(7, 8, 0)).toThrow(RangeError);
    // Rows are capped too: a shard's per-row answer must fit in one message.
    expect(planShards(10, 8, 1000, 4).map((s) => [s.start, s.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(planShards(10, 0, 1000, 4)).toHaveLength(3);
    expect(shardRowsFor(1 << 20)).toBe(130560);
  });
});

describe('owners', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e'];

  test('are the same whatever order the members are listed in, and distinct', () => {
    for (let k = 0; k < 50; k++) {
      const key = `ds/${k}`;
      const first = owners(key, nodes, 2);
      expect(first).toHaveLength(2);
      expect(new Set(first).size).toBe(2);
      expect(owners(key, [...nodes].reverse(), 2)).toEqual(first);
    }
    expect(owners('x', ['a'], 3)).toEqual(['a']);
  });

  test('spread keys over every node, and a leaving node moves only its own keys', () => {
    const keys = Array.from({ length: 2000 }, (_, k) => `ds/${k}`);
    const counts = new Map<string, number>();
    for (const key of keys) {
      const [owner] = owners(key, nodes, 1);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const node of nodes) expect(counts.get(node)).toBeGreaterThan(300);
    const without = nodes.filter((n) => n !== 'c');
    for (const key of keys) {
      const [before] = owners(key, nodes, 1);
      const [after] = owners(key, without, 1);
      if (before !== 'c') expect(after).toBe(before);
    }
  });
});
