import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseByteSize } from '../../src/config.js';
import {
  compose,
  interpolate,
  missingVariables,
  REQUIRED,
  rawCompose,
  resolve,
  root,
  servicesOf,
} from './compose-file.js';

describe('interpolate', () => {
  it('follows Compose for the forms the file uses', () => {
    // Template literals with `\${` so the text holds Compose's syntax as written in the file.
    expect(interpolate(`\${A:-x}/\${B-y}/\${C}`, { A: '', B: '' })).toBe('x//');
    expect(interpolate(`$\${A}`, { A: 'v' })).toBe(`\${A}`);
    expect(() => interpolate(`\${A:?say A}`, { A: '' })).toThrow(/A is missing a value: say A/);
    expect(interpolate(`\${A?say A}`, { A: '' })).toBe('');
  });
});

describe('docker/compose.yaml', () => {
  it('starts rowpool, Prometheus and Grafana by default, and nothing else', async () => {
    expect(Object.keys(servicesOf(await compose()))).toEqual(['rowpool', 'prometheus', 'grafana']);
  });

  it('refuses to start without the API token and the Grafana password, naming each', async () => {
    const raw = await rawCompose();
    const missing = missingVariables(servicesOf(raw), {});
    expect(missing).toHaveLength(2);
    expect(missing[0]).toMatch(/^required variable ROWPOOL_API_TOKEN is missing a value: .*token/);
    expect(missing[1]).toMatch(/^required variable GRAFANA_ADMIN_PASSWORD is missing a value: .*password/);
    // An empty value is as good as none.
    expect(() => resolve(raw, { ...REQUIRED, ROWPOOL_API_TOKEN: '' })).toThrow(/ROWPOOL_API_TOKEN/);
    expect(() => resolve(raw, { ...REQUIRED, GRAFANA_ADMIN_PASSWORD: '' })).toThrow(/GRAFANA_ADMIN_PASSWORD/);
    expect(() => resolve(raw, REQUIRED)).not.toThrow();
  });

  it('hands the token and the password to the services', async () => {
    const { services } = await compose();
    expect(services.rowpool.environment?.ROWPOOL_API_TOKEN).toBe('api-secret');
    expect(services.grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe('grafana-secret');
  });

  it('publishes every port on loopback only unless told otherwise', async () => {
    const services = servicesOf(await compose());
    const ports = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(ports).toEqual(['127.0.0.1:3000:3000', '127.0.0.1:9090:9090', '127.0.0.1:3001:3000']);

    const exposed = await compose({ ROWPOOL_BIND: '0.0.0.0', GRAFANA_BIND: '192.0.2.7' });
    expect(exposed.services.rowpool.ports).toEqual(['0.0.0.0:3000:3000']);
    expect(exposed.services.grafana.ports).toEqual(['192.0.2.7:3001:3000']);
    expect(exposed.services.prometheus.ports).toEqual(['127.0.0.1:9090:9090']);
  });

  it('runs Prometheus without the lifecycle API', async () => {
    const { services } = await compose();
    const command = services.prometheus.command ?? [];
    expect(command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(command.filter((arg) => /lifecycle/.test(arg))).toEqual([]);
  });

  it("gives rowpool an environment its config accepts, with ROWPOOL_MEMORY_LIMIT's default", async () => {
    const { services } = await compose();
    const config = loadConfig(services.rowpool.environment);
    expect(config.memoryLimit).toBe(2 * 2 ** 30);
    expect(config.apiToken).toBe('api-secret');
    // Variables passed through empty mean unset to rowpool.
    expect(config.metricsToken).toBeUndefined();
    expect(config.preload).toEqual([]);

    const container = parseByteSize(`${services.rowpool.deploy?.resources?.limits?.memory}iB`);
    // The container needs room beside the dataset budget for Node's heaps and the workers.
    expect(container).toBeGreaterThanOrEqual(config.memoryLimit * 1.2);
  });

  it('takes ROWPOOL_MEMORY_LIMIT and the container limit from the environment', async () => {
    const raw = await rawCompose();
    expect(raw.services.rowpool.environment?.ROWPOOL_MEMORY_LIMIT).toMatch(
      /^\$\{ROWPOOL_MEMORY_LIMIT:-[^}]+\}$/,
    );
    const { services } = await compose({ ROWPOOL_MEMORY_LIMIT: '6GiB', ROWPOOL_CONTAINER_MEMORY: '8G' });
    expect(loadConfig(services.rowpool.environment).memoryLimit).toBe(6 * 2 ** 30);
    expect(services.rowpool.deploy?.resources?.limits?.memory).toBe('8G');
  });

  it('lets Prometheus scrape with ROWPOOL_METRICS_TOKEN when it is set', async () => {
    const { services, configs } = await compose({ ROWPOOL_METRICS_TOKEN: 'metrics-secret' });
    expect(loadConfig(services.rowpool.environment).metricsToken).toBe('metrics-secret');

    const scrape = parse(await readFile(new URL('docker/prometheus/prometheus.yml', root), 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        static_configs: Array<{ targets: string[] }>;
        authorization?: { type?: string; credentials_file?: string };
      }>;
    };
    const job = scrape.scrape_configs.find((c) => c.job_name === 'rowpool');
    expect(job?.static_configs[0].targets).toEqual(['rowpool:3000']);
    expect(job?.authorization?.type).toBe('Bearer');
    const mounted = services.prometheus.configs?.find(
      (c) => c.target === job?.authorization?.credentials_file,
    );
    expect(mounted, 'the credentials file is mounted into Prometheus').toBeDefined();
    expect(configs?.[mounted!.source]?.content).toBe('metrics-secret');

    // Unset, the file is empty: Prometheus sends an empty token and an open /metrics ignores it.
    const open = await compose();
    expect(open.configs?.[mounted!.source]?.content).toBe('');
  });
});
