import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { registerRequestDeadline } from './common/request-deadline';
import { sendRoutingProblem } from './common/problem.filter';
import { createValidationPipe } from './common/validation';
import { ShutdownService } from './health/shutdown.service';
import { AppConfig } from './config/app-config';
import { registerHttpObservability } from './observability/http-observability';
import { createRootLogger } from './observability/logger';
import { MetricsService } from './observability/metrics.service';
import { SERVICE_VERSION } from './observability/tracing';

export interface CreateAppOptions {
  config: AppConfig;
  /** Destination of the log lines; tests pass a stream to read them back. */
  logDestination?: DestinationStream;
}

/** Builds the gateway without listening, so tests and `main.ts` share one setup. */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const { config } = options;
  const root = createRootLogger({
    level: config.log.level,
    pretty: config.log.pretty,
    destination: options.logDestination,
    serviceVersion: SERVICE_VERSION,
  });
  resetNestPinoRoot();
  const nestLogger = new Logger(new PinoLogger({ pinoHttp: { logger: root } }), {});
  // During shutdown the server keeps serving requests on open connections (no automatic 503),
  // and closing it ends idle keep-alive sockets. ShutdownService runs that sequence.
  const adapter = new FastifyAdapter({
    bodyLimit: config.server.bodyLimitBytes,
    logger: false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // The original Suno-API's paths end in a slash (`/generate/lyrics/`), so both spellings
    // match. Its `GET /feed/{ids}` carries up to 50 comma-separated UUIDs in one parameter.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    frameworkErrors: sendRoutingProblem,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: nestLogger,
    abortOnError: false,
    // Nest would add a form-urlencoded parser at init; Fastify's own JSON parser is all we accept.
    bodyParser: false,
  });
  app.useLogger(nestLogger);

  const fastify = app.getHttpAdapter().getInstance();
  registerHttpObservability(fastify, root, app.get(MetricsService));
  // A caller without X-Request-Timeout-Ms may wait for about three read attempts.
  registerRequestDeadline(fastify, { defaultTimeoutMs: config.upstream.readTimeoutMs * 3 });
  // JSON only: text/plain and form bodies (curl's default without -H) get 415, not a confusing 400.
  fastify.removeContentTypeParser(['text/plain']);
  app.get(ShutdownService).attach(app, {
    flushLogs: () =>
      new Promise<void>((resolve, reject) => root.flush((err) => (err ? reject(err) : resolve()))),
  });

  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);

  return app;
}

function setupSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('suno-gateway')
      .setDescription(
        'REST gateway in front of Suno: songs, lyrics and credits. Errors are application/problem+json with a stable `code`.',
      )
      .setVersion(SERVICE_VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of the API_KEYS' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/** nestjs-pino keeps its root logger in a module variable; each app gets its own. */
function resetNestPinoRoot(): void {
  const mod = require('nestjs-pino/PinoLogger') as { __resetOutOfContextForTests?: () => void };
  mod.__resetOutOfContextForTests?.();
}
