// First import: tracing starts before Nest and its HTTP stack load, so every span has a provider.
import './observability/start-tracing';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config/load-config';
import { createApp } from './create-app';
import { ShutdownService } from './health/shutdown.service';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp({ config });
  // ShutdownService orders the steps itself; Nest's enableShutdownHooks would close modules
  // before the server and must stay off.
  const shutdown = app.get(ShutdownService);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      void shutdown
        .run(signal, { onDeadline: () => process.exit(1) })
        .then((code) => process.exit(code));
    });
  }
  await app.listen({ port: config.server.port, host: config.server.host });
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Bootstrap').log({ host: address, port }, `listening on ${address}:${port}`);
}

void bootstrap();
