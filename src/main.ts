import { startTracing } from './observability/tracing';

// Tracing starts before Nest and its HTTP stack load, so every span has a provider.
startTracing();

import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/load-config';
import { createApp } from './create-app';

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
  app.enableShutdownHooks();
  await app.listen({ port: config.server.port, host: config.server.host });
}

void bootstrap();
