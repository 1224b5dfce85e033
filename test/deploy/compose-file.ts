import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/*
 * docker/compose.yaml read as Compose reads it: the YAML parsed, then `${...}` interpolated from an
 * environment, then the services of the active profiles picked. There is no Docker engine on the
 * build machines, so the rules Compose applies are written out here for the forms the file uses.
 */

export const root = new URL('../../', import.meta.url);

/** A service's networks, as a list of names or a map of name to its settings there. */
export type Networks = string[] | Record<string, { aliases?: string[] } | null>;

export interface Service {
  profiles?: string[];
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  networks?: Networks;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  deploy?: { resources?: { limits?: { memory?: string } } };
}

export interface ComposeFile {
  services: Record<string, Service>;
  networks?: Record<string, unknown>;
  configs?: Record<string, { content?: string }>;
  volumes?: Record<string, unknown>;
}

export type Env = Record<string, string | undefined>;

/**
 * Compose's interpolation: `${VAR}`, `${VAR:-default}` and `${VAR-default}`, `${VAR:?message}` and
 * `${VAR?message}` (an error naming the variable), `$$` for a literal `$`. The colon forms treat an
 * empty value as unset, as Compose does.
 */
export function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (whole, name: string | undefined, colon: string, op: string | undefined, arg: string) => {
      if (whole === '$$') return '$';
      const value = env[name!];
      const unset = value === undefined || (colon === ':' && value === '');
      if (op === '-') return unset ? arg : value!;
      if (op === '?') {
        if (unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
        return value!;
      }
      return value ?? '';
    },
  );
}

/** Interpolates every string in the parsed document; the first missing required variable throws. */
export function resolve<T>(node: T, env: Env): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((item) => resolve(item, env)) as T;
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, env)])) as T;
  }
  return node;
}

/** Every message of a missing required variable, not only the first. */
export function missingVariables(node: unknown, env: Env): string[] {
  if (typeof node === 'string') {
    const missing: string[] = [];
    for (const m of node.matchAll(/\$\{[^}]*\}/g)) {
      try {
        interpolate(m[0], env);
      } catch (err) {
        missing.push((err as Error).message);
      }
    }
    return missing;
  }
  if (node !== null && typeof node === 'object') {
    return Object.values(node).flatMap((v) => missingVariables(v, env));
  }
  return [];
}

export async function rawCompose(): Promise<ComposeFile> {
  return parse(await readFile(new URL('docker/compose.yaml', root), 'utf8')) as ComposeFile;
}

export const REQUIRED = { ROWPOOL_API_TOKEN: 'api-secret', GRAFANA_ADMIN_PASSWORD: 'grafana-secret' };

export async function compose(env: Env = {}): Promise<ComposeFile> {
  return resolve(await rawCompose(), { ...REQUIRED, ...env });
}

/**
 * The services `up` starts with these profiles active: those without a profile always, the others
 * when one of theirs is active.
 */
export function servicesOf(file: ComposeFile, profiles: readonly string[] = []): Record<string, Service> {
  return Object.fromEntries(
    Object.entries(file.services).filter(
      ([, s]) => s.profiles === undefined || s.profiles.some((p) => profiles.includes(p)),
    ),
  );
}

/** The services only the profile starts. */
export function profileOnly(file: ComposeFile, profile: string): Record<string, Service> {
  return Object.fromEntries(Object.entries(file.services).filter(([, s]) => s.profiles?.includes(profile)));
}

export function networkNames(service: Service): string[] {
  const { networks } = service;
  if (networks === undefined) return ['default'];
  return Array.isArray(networks) ? networks : Object.keys(networks);
}
