import { Gauge, type Registry } from 'prom-client';
import type { ClusterNode } from './node.js';

/** The cluster as this node sees it, read at each scrape. */
export function registerClusterMetrics(registry: Registry, node: ClusterNode): void {
  new Gauge({
    name: 'rowpool_cluster_nodes',
    help: 'Live members of the cluster, as of this node’s last heartbeat',
    registers: [registry],
    collect() {
      this.set(node.nodes);
    },
  });
  new Gauge({
    name: 'rowpool_cluster_shards_owned',
    help: 'Shards this node owns and holds in memory',
    registers: [registry],
    collect() {
      this.set(node.holdings.held().length);
    },
  });
  new Gauge({
    name: 'rowpool_cluster_shards_loading',
    help: 'Shards this node owns that are still being read from the object store',
    registers: [registry],
    collect() {
      this.set(node.holdings.loading);
    },
  });
  new Gauge({
    name: 'rowpool_cluster_shards_unplaced',
    help: 'Shards this node owns that do not fit in its memory limit',
    registers: [registry],
    collect() {
      this.set(node.holdings.unplaced.length);
    },
  });
}
