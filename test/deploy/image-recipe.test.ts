import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/app.js';
import { postJson } from '../helpers/http.js';

/**
 * There is no Docker engine on the build machines, so this replays the Dockerfile's recipe in a
 * temporary folder: the build stage's COPYs and build, then the runtime stage's COPYs, production
 * install and CMD with its ENV. A file the image lacks, or a dev dependency needed at run time,
 * fails here. It installs from the npm registry, so it runs with the end-to-end tests (ROWPOOL_E2E=1).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Stage {
  name: string;
  instructions: Array<{ op: string; args: string }>;
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of logical) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM')
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '', instructions: [] });
    else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** Performs a stage's COPY instructions into `dir`, from the build context or an earlier stage's folder. */
function copyInto(stage: Stage, dir: string, stageDirs: Map<string, string>): void {
  for (const { op, args } of stage.instructions) {
    if (op !== 'COPY') continue;
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop()!;
    for (const source of paths) {
      const origin =
        from === undefined ? join(ROOT, source) : join(stageDirs.get(from)!, source.replace(/^\/app\/?/, ''));
      const target = dest.endsWith('/') ? join(dir, dest, source.split('/').pop()!) : join(dir, dest);
      cpSync(origin, target, { recursive: true });
    }
  }
}

function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage.instructions) {
    if (op !== 'ENV') continue;
    for (const pair of args.match(/\S+=("[^"]*"|\S+)/g) ?? []) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"|"$/g, '');
    }
  }
  return env;
}

/** The HEALTHCHECK's options and its exec-form command. */
function healthCheck(stages: Stage[]): { options: string; command: string[] } {
  const check = stages.at(-1)!.instructions.find((i) => i.op === 'HEALTHCHECK')!;
  const at = check.args.indexOf('CMD ');
  return { options: check.args.slice(0, at), command: JSON.parse(check.args.slice(at + 'CMD '.length)) };
}

/** Runs a command with PORT set as the image sets it; resolves with its exit code. */
function exitCode(command: string[], port: number): Promise<number> {
  return new Promise((resolve) => {
    const child = execFile(command[0] === 'node' ? process.execPath : command[0], command.slice(1), {
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
      timeout: 20_000,
    });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

describe('the image HEALTHCHECK', () => {
  test('reports unhealthy until the service is ready, then healthy', async () => {
    const { options, command } = healthCheck(parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')));
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain("'/readyz'");
    // A preload of a few GB fits in the start period.
    expect(Number(/--start-period=(\d+)s/.exec(options)?.[1])).toBeGreaterThanOrEqual(60);

    // Listening but not started: /healthz answers, /readyz does not yet.
    const app = await buildApp(testConfig({ threads: 1 }), { logger: false });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(await exitCode(command, port)).toBe(1);
      await app.rowpool.start();
      expect(await exitCode(command, port)).toBe(0);
    } finally {
      await app.close();
    }
  });
});

const runs = process.env.ROWPOOL_E2E === '1';

describe.skipIf(!runs)('the Dockerfile recipe, replayed without Docker', () => {
  const work = mkdtempSync(join(tmpdir(), 'rowpool-image-'));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  // A build, a production install from the registry and a start: minutes on a busy machine.
  test('the production install starts, serves /healthz and runs a job on its workers', async () => {
    const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const build = stages.find((s) => s.name === 'build')!;
    const runtime = stages.at(-1)!;
    expect(runtime.name).toBe('runtime');

    const buildDir = join(work, 'build');
    const appDir = join(work, 'app');
    copyInto(build, buildDir, new Map());
    // The build stage installs every dependency; the checkout's own node_modules stand in for it.
    symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
    execFileSync('npm', ['run', 'build'], { cwd: buildDir, stdio: 'pipe' });

    copyInto(runtime, appDir, new Map([['build', buildDir]]));
    const install = runtime.instructions.find((i) => i.op === 'RUN' && i.args.includes('npm ci'))!;
    const npmArgs = install.args
      .slice(install.args.indexOf('npm ci') + 'npm ci'.length)
      .trim()
      .split(/\s+/);
    execFileSync('npm', ['ci', ...npmArgs, '--prefer-offline'], {
      cwd: appDir,
      stdio: 'pipe',
      timeout: 240_000,
    });
    expect(() =>
      execFileSync('npm', ['ls', 'typescript', 'vitest', 'tsx'], { cwd: appDir, stdio: 'pipe' }),
    ).toThrow();

    const cmd = JSON.parse(runtime.instructions.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd[0]).toBe('node');
    const env = { ...stageEnv(runtime), PORT: '0', ROWPOOL_THREADS: '1', PATH: process.env.PATH ?? '' };
    const child = spawn(process.execPath, cmd.slice(1), {
      cwd: appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the server did not start')), 30_000);
        child.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
        child.stdout.on('data', (c: Buffer) => {
          const match = /listening at http:\/\/[^:]+:(\d+)/.exec(c.toString());
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
      });
      const base = `http://127.0.0.1:${port}`;
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const dataset = await postJson<{ id: string }>(`${base}/v1/datasets`, {
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      });
      const job = await postJson<{ id: string; status: string }>(
        `${base}/v1/datasets/${dataset.body.id}/jobs?wait=10`,
        {
          op: 'sum',
        },
      );
      expect(job.body.status).toBe('succeeded');
      const result = (await (await fetch(`${base}/v1/jobs/${job.body.id}/result`)).json()) as {
        data: number[];
      };
      expect(result.data).toEqual([6, 15]);
      expect((await fetch(`${base}/openapi.yaml`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(child.exitCode).toBe(0);
  }, 300_000);
});
