import { composeBindMounts, composeEnvironment, readCompose } from './support/compose';
import {
  Stage,
  copySources,
  dockerignorePatterns,
  isIgnored,
  parseAssignments,
  parseDockerfile,
  parseInstructions,
} from './support/dockerfile';
import { DEFAULT_ACCOUNT } from '../emulator/accounts';
import { existsOrOwnedElsewhere, readText } from './support/repo';

const SECRET_NAME = /COOKIE|KEY|TOKEN|SECRET|PASSWORD/i;
const SERVICES = ['gateway', 'emulator', 'redis', 'jaeger', 'prometheus', 'grafana'];

const dockerfile = parseDockerfile(readText('Dockerfile'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const emulator = dockerfile.stages.find((stage) => stage.name === 'emulator');
const ignorePatterns = dockerignorePatterns(readText('.dockerignore'));
const compose = readCompose();

function instructionsOf(stage: Stage | undefined, keyword: string): string[] {
  return (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
}

function lastUser(stage: Stage | undefined): string | undefined {
  return instructionsOf(stage, 'USER').pop();
}

describe('Dockerfile', () => {
  it('builds in several stages', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual(
      expect.arrayContaining(['build', 'emulator', 'runtime']),
    );
  });

  it('ends with the runtime stage as the default target', () => {
    expect(runtime.name).toBe('runtime');
  });

  it('runs the runtime stage as a non-root user', () => {
    expect(lastUser(runtime)).toBeDefined();
    expect(['root', '0']).not.toContain(lastUser(runtime)?.split(':')[0]);
  });

  it('runs the emulator stage as a non-root user', () => {
    expect(lastUser(emulator)).toBeDefined();
    expect(['root', '0']).not.toContain(lastUser(emulator)?.split(':')[0]);
  });

  it('pins the runtime base image to a tag', () => {
    const tag = runtime.image.split(':')[1];

    expect(runtime.image).not.toContain('$');
    expect(tag).toBeDefined();
    expect(tag).not.toBe('latest');
  });

  it('installs only production dependencies into the runtime stage', () => {
    const copies = instructionsOf(runtime, 'COPY').filter((args) => args.includes('node_modules'));
    const sourceStage = /--from=(\S+)/.exec(copies[0] ?? '')?.[1];
    const installs = instructionsOf(
      dockerfile.stages.find((stage) => stage.name === sourceStage),
      'RUN',
    );

    expect(copies).toHaveLength(1);
    expect(installs.some((run) => /npm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(instructionsOf(runtime, 'RUN').filter((run) => /npm (ci|install)/.test(run))).toEqual(
      [],
    );
  });

  it('builds with npm ci and npm run build', () => {
    const runs = dockerfile.stages.flatMap((stage) => instructionsOf(stage, 'RUN'));

    expect(runs.some((run) => /^npm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);
    expect(runs).toContain('npm run build');
  });

  it('sets NODE_ENV=production and exposes 3000 in the runtime stage', () => {
    const env = Object.assign(
      {},
      ...instructionsOf(runtime, 'ENV').map((args) => parseAssignments('ENV', args)),
    );

    expect(env.NODE_ENV).toBe('production');
    expect(instructionsOf(runtime, 'EXPOSE')).toContain('3000');
  });

  it('starts node directly in exec form', () => {
    const command = JSON.parse(instructionsOf(runtime, 'CMD').pop() ?? 'null') as string[] | null;

    expect(command).toEqual(['node', 'dist/main.js']);
  });

  it('runs the emulator through @swc-node/register', () => {
    const command = JSON.parse(instructionsOf(emulator, 'CMD').pop() ?? 'null') as string[] | null;

    expect(command).toEqual(['node', '-r', '@swc-node/register', 'test/emulator/main.ts']);
  });

  it('passes no secret through ARG or ENV', () => {
    const all = [
      ...Object.entries(dockerfile.globalArgs).map(([name, value]) => ({
        keyword: 'ARG',
        name,
        value,
      })),
      ...dockerfile.stages.flatMap((stage) =>
        stage.instructions
          .filter((i) => i.keyword === 'ARG' || i.keyword === 'ENV')
          .flatMap((i) =>
            Object.entries(parseAssignments(i.keyword, i.args)).map(([name, value]) => ({
              keyword: i.keyword,
              name,
              value,
            })),
          ),
      ),
    ];
    const leaks = all.filter(({ name, value }) => SECRET_NAME.test(name) && value);

    expect(leaks).toEqual([]);
  });

  it('copies no .env file', () => {
    const sources = parseInstructions(readText('Dockerfile'))
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .flatMap(copySources);

    expect(sources.filter((source) => /(^|\/)\.env/.test(source) || source === '.')).toEqual([]);
  });

  it('copies files that exist and are not ignored', () => {
    const sources = dockerfile.stages.flatMap((stage) =>
      stage.instructions
        .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
        .flatMap(copySources),
    );

    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => !existsOrOwnedElsewhere(source))).toEqual([]);
    expect(
      sources.filter((source) => isIgnored(source.replace(/^\.\//, ''), ignorePatterns)),
    ).toEqual([]);
  });
});

describe('.dockerignore', () => {
  it.each([
    ['node_modules'],
    ['.env'],
    ['.env.local'],
    ['.git'],
    ['dist'],
    ['coverage'],
    ['bench/results/run.json'],
  ])('excludes %s', (path) => {
    expect(isIgnored(path, ignorePatterns)).toBe(true);
  });

  it.each([['src/main.ts'], ['test/emulator/main.ts'], ['package.json'], ['package-lock.json']])(
    'keeps %s',
    (path) => {
      expect(isIgnored(path, ignorePatterns)).toBe(false);
    },
  );
});

describe('docker-compose.yml', () => {
  const gatewayEnv = composeEnvironment(compose.services.gateway ?? {});

  it('defines the six demo services', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICES].sort());
  });

  it.each(SERVICES.map((name) => [name]))('gives %s a healthcheck', (name) => {
    const healthcheck = compose.services[name]?.healthcheck;

    expect(healthcheck?.disable).not.toBe(true);
    expect(healthcheck?.test).toBeDefined();
  });

  it('waits only for services that have a healthcheck', () => {
    const conditions = Object.entries(compose.services).flatMap(([name, service]) =>
      Array.isArray(service.depends_on) || !service.depends_on
        ? []
        : Object.entries(service.depends_on).map(([dependency, { condition }]) => ({
            name,
            dependency,
            condition,
          })),
    );
    const unknown = conditions.filter(({ dependency }) => !compose.services[dependency]);
    const unhealthy = conditions.filter(
      ({ dependency, condition }) =>
        condition === 'service_healthy' && !compose.services[dependency]?.healthcheck,
    );

    expect(conditions.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
    expect(unhealthy).toEqual([]);
  });

  it('starts the gateway after a healthy emulator and Redis', () => {
    expect(compose.services.gateway.depends_on).toEqual(
      expect.objectContaining({
        emulator: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      }),
    );
  });

  it('builds the gateway and emulator from Dockerfile targets', () => {
    const stageNames = dockerfile.stages.map((stage) => stage.name);
    for (const name of ['gateway', 'emulator']) {
      const build = compose.services[name].build;
      const target = typeof build === 'object' ? build.target : undefined;
      const context = typeof build === 'object' ? build.context : build;

      expect(stageNames).toContain(target);
      expect(existsOrOwnedElsewhere(context ?? '')).toBe(true);
    }
  });

  it('points the gateway at the emulator, Redis and Jaeger', () => {
    expect(new URL(gatewayEnv.SUNO_BASE_URL).hostname).toBe('emulator');
    expect(new URL(gatewayEnv.SUNO_AUTH_URL).hostname).toBe('emulator');
    expect(new URL(gatewayEnv.REDIS_URL).hostname).toBe('redis');
    expect(gatewayEnv.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(gatewayEnv.API_KEYS).toBe('demo-key');
  });

  it('uses only demo values for secrets', () => {
    const demoValues = ['demo-key', `__client=${DEFAULT_ACCOUNT.clientToken}`];
    const secrets = Object.entries(compose.services).flatMap(([name, service]) =>
      Object.entries(composeEnvironment(service))
        .filter(([key]) => SECRET_NAME.test(key))
        .map(([key, value]) => ({ name, key, value })),
    );

    expect(secrets.filter(({ value }) => !demoValues.includes(value))).toEqual([]);
  });

  it("signs in with the emulator's default account", () => {
    expect(gatewayEnv.SUNO_COOKIE).toBe(`__client=${DEFAULT_ACCOUNT.clientToken}`);
  });

  it('enables OTLP on Jaeger and publishes its UI and OTLP ports', () => {
    const jaeger = compose.services.jaeger;
    const published = (jaeger.ports ?? []).map(String);

    expect(composeEnvironment(jaeger).COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(published.some((port) => port.endsWith(':16686'))).toBe(true);
    expect(published.some((port) => port.endsWith(':4318'))).toBe(true);
  });

  it('publishes ports on loopback only', () => {
    const ports = Object.values(compose.services).flatMap((service) =>
      (service.ports ?? []).map(String),
    );

    expect(ports.filter((port) => !port.startsWith('127.0.0.1:'))).toEqual([]);
  });

  it('mounts only paths that exist', () => {
    const sources = Object.keys(compose.services).flatMap((name) =>
      composeBindMounts(compose, name).map((m) => m.source),
    );

    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => !existsOrOwnedElsewhere(source))).toEqual([]);
  });

  it('loads the Prometheus configuration from the mounted folder', () => {
    const command = compose.services.prometheus.command;
    const args = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
    const configFile = args.find((arg) => arg.startsWith('--config.file='))?.split('=')[1] ?? '';
    const mount = composeBindMounts(compose, 'prometheus').find((m) =>
      configFile.startsWith(`${m.target}/`),
    );

    expect(mount?.source).toBe('deploy/prometheus');
    expect(
      existsOrOwnedElsewhere(
        `${mount?.source}/${configFile.slice((mount?.target.length ?? 0) + 1)}`,
      ),
    ).toBe(true);
    expect(args).toContain('--enable-feature=exemplar-storage');
  });

  it('gives Grafana anonymous viewer access', () => {
    const env = composeEnvironment(compose.services.grafana);

    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});

describe('Dockerfile parser', () => {
  it('joins continuation lines and skips comments', () => {
    const instructions = parseInstructions('FROM a AS b\n# note\nRUN one \\\n  two\nUSER node\n');

    expect(instructions.map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', 'a AS b'],
      ['RUN', 'one two'],
      ['USER', 'node'],
    ]);
  });

  it('detects a secret ENV with a value', () => {
    expect(parseAssignments('ENV', 'SUNO_COOKIE=abc NODE_ENV=production')).toEqual({
      SUNO_COOKIE: 'abc',
      NODE_ENV: 'production',
    });
    expect(parseAssignments('ENV', 'API_KEY secret')).toEqual({ API_KEY: 'secret' });
  });

  it('applies .dockerignore negation in order', () => {
    expect(isIgnored('test/e2e/a.ts', ['test/*', '!test/emulator'])).toBe(true);
    expect(isIgnored('test/emulator/a.ts', ['test/*', '!test/emulator'])).toBe(false);
  });
});
