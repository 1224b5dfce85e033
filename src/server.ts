import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

/** How long responses in flight after the grace (the 503s of cut-off uploads) get to be sent. */
const CLOSE_WAIT_MS = 2000;

/** config -> app -> listen; on SIGTERM/SIGINT, finish running jobs within the grace period, then close. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rowpool: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config);
  } catch (err) {
    // Building connects to NATS in a cluster: an unreachable server is a clear exit, not a crash.
    process.stderr.write(`rowpool: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  app.log.info(
    {
      memoryLimitBytes: config.memoryLimit,
      threads: config.threads,
      shutdownGraceSeconds: config.shutdownGraceSeconds,
    },
    'rowpool configured',
  );
  closeWithGrace({ delay: (config.shutdownGraceSeconds + 10) * 1000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.rowpool.shutdown();
    // Connections still busy shortly after the grace (a stalled download) are cut, so the exit is 0.
    const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_WAIT_MS);
    await app.close();
    clearTimeout(cut);
  });
  try {
    await app.listen({ host: config.host, port: config.port });
    await app.rowpool.start();
  } catch (err) {
    app.log.fatal({ err }, 'start failed');
    process.stderr.write(`rowpool: cannot start: ${(err as Error).message}\n`);
    await app.close();
    process.exit(1);
  }
  app.log.info('ready');
}

await main();
