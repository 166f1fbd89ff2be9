import { readYaml } from './repo';

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { published?: string | number; host_ip?: string; target?: number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

export interface BindMount {
  /** Repository-relative path, without a leading ./ or a trailing slash. */
  source: string;
  target: string;
}

export function readCompose(): ComposeFile {
  return readYaml<ComposeFile>('docker-compose.yml');
}

function normalizeSource(source: string): string {
  return source.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Bind mounts of a service whose source is a path (named volumes are left out). */
export function composeBindMounts(compose: ComposeFile, service: string): BindMount[] {
  return (compose.services[service]?.volumes ?? []).flatMap((volume): BindMount[] => {
    if (typeof volume !== 'string') {
      return volume.type === 'bind' && volume.source && volume.target
        ? [{ source: normalizeSource(volume.source), target: volume.target }]
        : [];
    }
    const [source, target] = volume.split(':');
    const isPath = source.startsWith('.') || source.startsWith('/');

    return isPath && target ? [{ source: normalizeSource(source), target }] : [];
  });
}

/** Returns the environment of a service as a map, from either the list or the map form. */
export function composeEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const equals = entry.indexOf('=');

        return equals < 0 ? [entry, ''] : [entry.slice(0, equals), entry.slice(equals + 1)];
      }),
    );
  }

  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]),
  );
}
