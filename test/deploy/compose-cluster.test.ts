import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import {
  type ComposeFile,
  compose,
  missingVariables,
  networkNames,
  profileOnly,
  rawCompose,
  root,
  type Service,
  servicesOf,
} from './compose-file.js';

/* The cluster profile of docker/compose.yaml: `docker compose --profile cluster up`. */

const byPrefix = (file: ComposeFile, prefix: string): Array<[string, Service]> =>
  Object.entries(profileOnly(file, 'cluster')).filter(([name]) => name.startsWith(prefix));

const read = async (path: string): Promise<string> => readFile(new URL(path, root), 'utf8');

/** The host file a service mounts at `target`, relative to docker/. */
function mounted(service: Service, target: string): string | undefined {
  const volume = service.volumes?.find((v) => v.split(':')[1] === target);
  return volume?.split(':')[0];
}

interface ScrapeConfig {
  scrape_configs: Array<{
    job_name: string;
    static_configs: Array<{ targets: string[] }>;
    authorization?: { type?: string; credentials_file?: string };
  }>;
}

describe('the cluster profile of docker/compose.yaml', () => {
  it('adds three NATS servers, three rowpool nodes, a Prometheus and a Grafana', async () => {
    const file = await compose();
    expect(Object.keys(profileOnly(file, 'cluster'))).toEqual([
      'nats-1',
      'nats-2',
      'nats-3',
      'rowpool-1',
      'rowpool-2',
      'rowpool-3',
      'prometheus-cluster',
      'grafana-cluster',
    ]);
    // With the profile, Compose also starts the services that have none.
    expect(Object.keys(servicesOf(file, ['cluster']))).toHaveLength(11);
  });

  it('refuses to start without the API token and the Grafana password, on every service needing one', async () => {
    const raw = await rawCompose();
    const cluster = profileOnly(raw, 'cluster');
    const missing = missingVariables(cluster, {});
    expect(missing.filter((m) => m.startsWith('required variable ROWPOOL_API_TOKEN '))).toHaveLength(3);
    expect(missing.filter((m) => m.startsWith('required variable GRAFANA_ADMIN_PASSWORD '))).toHaveLength(1);
    expect(missing).toHaveLength(4);
    for (const [, node] of byPrefix(raw, 'rowpool-')) {
      expect(node.environment?.ROWPOOL_API_TOKEN).toMatch(/^\$\{ROWPOOL_API_TOKEN:\?.*token.*\}$/);
    }
  });

  it('publishes every port on loopback only unless told otherwise, and no NATS port at all', async () => {
    const cluster = profileOnly(await compose(), 'cluster');
    expect(Object.values(cluster).flatMap((s) => s.ports ?? [])).toEqual([
      '127.0.0.1:3011:3000',
      '127.0.0.1:3012:3000',
      '127.0.0.1:3013:3000',
      '127.0.0.1:9091:9090',
      '127.0.0.1:3002:3000',
    ]);
    // Side by side with the single-node services: no host port is published twice.
    const all = Object.values(servicesOf(await compose(), ['cluster'])).flatMap((s) => s.ports ?? []);
    const hostPorts = all.map((p) => p.split(':').slice(0, 2).join(':'));
    expect(new Set(hostPorts).size).toBe(all.length);

    const exposed = profileOnly(
      await compose({ ROWPOOL_BIND: '0.0.0.0', PROMETHEUS_BIND: '192.0.2.7', GRAFANA_BIND: '192.0.2.8' }),
      'cluster',
    );
    expect(exposed['rowpool-2'].ports).toEqual(['0.0.0.0:3012:3000']);
    expect(exposed['prometheus-cluster'].ports).toEqual(['192.0.2.7:9091:9090']);
    expect(exposed['grafana-cluster'].ports).toEqual(['192.0.2.8:3002:3000']);
    for (const [, server] of byPrefix(await compose(), 'nats-')) expect(server.ports).toBeUndefined();
  });

  it('keeps the cluster on a network of its own', async () => {
    const file = await compose();
    for (const service of Object.values(profileOnly(file, 'cluster'))) {
      expect(networkNames(service)).toEqual(['cluster']);
    }
    for (const service of Object.values(servicesOf(file))) expect(networkNames(service)).toEqual(['default']);
  });

  it('clusters the three NATS servers with JetStream, each named, each with its own store', async () => {
    const servers = byPrefix(await compose(), 'nats-');
    const names = servers.map(([name]) => name);
    expect(names).toEqual(['nats-1', 'nats-2', 'nats-3']);
    const conf = servers.map(([, s]) => mounted(s, '/etc/nats/cluster.conf'));
    expect(new Set(conf)).toEqual(new Set(['./nats/cluster.conf']));
    for (const [name, server] of servers) {
      expect(server.image).toMatch(/^nats:2\.1\d/);
      const command = server.command ?? [];
      expect(command.slice(0, 2)).toEqual(['--config', '/etc/nats/cluster.conf']);
      expect(command[command.indexOf('--server_name') + 1]).toBe(name);
      expect(mounted(server, '/data')).toBe(`${name}-data`);
      expect(server.healthcheck?.test?.join(' ')).toContain('/healthz');
    }

    const text = await read('docker/nats/cluster.conf');
    expect(text).toMatch(/^jetstream\s*\{[^}]*store_dir:\s*\/data/m);
    expect(text).toMatch(/^\s*port:\s*4222$/m);
    const cluster = /^cluster\s*\{([\s\S]*?)^\}/m.exec(text)?.[1] ?? '';
    expect(cluster).toMatch(/^\s*name:\s*rowpool$/m);
    expect(cluster).toMatch(/^\s*port:\s*6222$/m);
    const routes = [...cluster.matchAll(/nats-route:\/\/([\w-]+):6222/g)].map((m) => m[1]);
    expect(routes).toEqual(names);
  });

  it('gives each rowpool node an environment its config accepts, naming all three NATS servers', async () => {
    const file = await compose();
    const servers = byPrefix(file, 'nats-').map(([name]) => name);
    const nodes = byPrefix(file, 'rowpool-');
    expect(nodes.map(([name]) => name)).toEqual(['rowpool-1', 'rowpool-2', 'rowpool-3']);
    const ids = new Set<string>();
    for (const [name, node] of nodes) {
      expect(node.image).toBe(file.services.rowpool.image);
      expect(node.build).toEqual(file.services.rowpool.build);
      const config = loadConfig(node.environment);
      expect(config.apiToken).toBe('api-secret');
      expect(config.metricsToken).toBeUndefined();
      expect(config.memoryLimit).toBe(2 * 2 ** 30);
      const cluster = config.cluster!;
      expect(cluster.natsUrl.split(',')).toEqual(servers.map((s) => `nats://${s}:4222`));
      expect(cluster.streamReplicas).toBe(3);
      expect(cluster.replicas).toBe(2);
      expect(cluster.nodeId).toBe(name);
      expect(cluster.advertiseUrl).toBe(`http://${name}:3000`);
      ids.add(cluster.nodeId);
      // A node waits for all three servers to be healthy before it starts.
      expect(node.depends_on).toEqual(
        Object.fromEntries(servers.map((s) => [s, { condition: 'service_healthy' }])),
      );
      expect(node.deploy).toEqual(file.services.rowpool.deploy);
    }
    expect(ids.size).toBe(3);

    const tuned = byPrefix(
      await compose({ ROWPOOL_REPLICAS: '3', ROWPOOL_SHARD_BYTES: '16MiB' }),
      'rowpool-',
    );
    for (const [, node] of tuned) {
      expect(loadConfig(node.environment).cluster).toMatchObject({ replicas: 3, shardBytes: 16 * 2 ** 20 });
    }
  });

  it('has Prometheus scrape the three nodes with ROWPOOL_METRICS_TOKEN, without the lifecycle API', async () => {
    const file = await compose({ ROWPOOL_METRICS_TOKEN: 'metrics-secret' });
    const prometheus = file.services['prometheus-cluster'];
    const command = prometheus.command ?? [];
    expect(command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(command.filter((arg) => /lifecycle/.test(arg))).toEqual([]);
    expect(mounted(prometheus, '/etc/prometheus/prometheus.yml')).toBe('./prometheus/cluster.yml');

    const scrape = parse(await read('docker/prometheus/cluster.yml')) as ScrapeConfig;
    const job = scrape.scrape_configs.find((c) => c.job_name === 'rowpool');
    const nodes = byPrefix(file, 'rowpool-');
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual(nodes.map(([name]) => `${name}:3000`));
    expect(job?.authorization?.type).toBe('Bearer');
    const token = prometheus.configs?.find((c) => c.target === job?.authorization?.credentials_file);
    expect(token, 'the credentials file is mounted into Prometheus').toBeDefined();
    expect(file.configs?.[token!.source]?.content).toBe('metrics-secret');
    for (const [, node] of nodes) expect(loadConfig(node.environment).metricsToken).toBe('metrics-secret');
  });

  it("gives Grafana the shared provisioning, its data source reaching the cluster's Prometheus", async () => {
    const file = await compose();
    const grafana = file.services['grafana-cluster'];
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe('grafana-secret');
    const shared = (s: Service) => s.volumes?.filter((v) => v.startsWith('./'));
    expect(shared(grafana)).toEqual(shared(file.services.grafana));
    const datasources = parse(await read('docker/grafana/provisioning/datasources/prometheus.yaml')) as {
      datasources: Array<{ url: string }>;
    };
    const host = new URL(datasources.datasources[0].url).hostname;
    // The host name resolves to prometheus-cluster on the cluster network, and to nothing else there.
    const prometheus = file.services['prometheus-cluster'].networks as Record<string, { aliases?: string[] }>;
    expect(prometheus.cluster.aliases).toEqual([host]);
    const clashing = Object.entries(profileOnly(file, 'cluster')).filter(([name]) => name === host);
    expect(clashing).toEqual([]);
  });
});
