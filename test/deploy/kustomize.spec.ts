import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseYamlStream, repoPath, ROOT } from './support/repo';
import { KUBECTL, describeWithTool } from './support/tools';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: any;
};

const PROBE_PATHS = {
  startupProbe: '/health/startup',
  readinessProbe: '/health/ready',
  livenessProbe: '/health/live',
};
const PLACEHOLDER = 'REPLACE_ME';

function render(kubectl: string, dir: string): Manifest[] {
  const result = spawnSync(kubectl, ['kustomize', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) {
    throw new Error(`kubectl kustomize ${dir} failed (exit ${result.status}):\n${result.stderr}`);
  }

  return parseYamlStream<Manifest>(result.stdout);
}

/**
 * Validates one object against the Kubernetes OpenAPI schema through the kubernetes-models
 * class for its apiVersion and kind. Throws when the package has no class for the kind, so a
 * new kind needs its own check.
 */
function validateAgainstSchema(manifest: Manifest): void {
  const groupPath = manifest.apiVersion.includes('/') ? manifest.apiVersion : `v1`;
  const module = require(`kubernetes-models/${groupPath}/${manifest.kind}`);
  const Model = module[manifest.kind];

  new Model(manifest).validate();
}

function only(manifests: Manifest[], kind: string): Manifest {
  const matches = manifests.filter((m) => m.kind === kind);
  if (matches.length !== 1) {
    throw new Error(`expected one ${kind}, found ${matches.length}`);
  }

  return matches[0];
}

function containerOf(deployment: Manifest): any {
  return deployment.spec.template.spec.containers.find((c: any) => c.name === 'gateway');
}

/** Builds the container's environment from its envFrom ConfigMaps, then its env entries with plain values. */
function environmentOf(manifests: Manifest[], container: any): Record<string, string> {
  const fromConfigMaps = (container.envFrom ?? [])
    .filter((source: any) => source.configMapRef)
    .map(
      (source: any) =>
        manifests.find(
          (m) => m.kind === 'ConfigMap' && m.metadata.name === source.configMapRef.name,
        )?.data ?? {},
    );
  const direct = Object.fromEntries(
    (container.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]),
  );

  return Object.assign({}, ...fromConfigMaps, direct);
}

function preStopSeconds(container: any): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) {
    return Number(preStop.sleep.seconds);
  }
  const command: string[] = preStop?.exec?.command ?? [];
  if (command[0] === 'sleep' || command[0] === '/bin/sleep') {
    return Number(command[1]);
  }
  throw new Error(`preStop must sleep, found ${JSON.stringify(preStop)}`);
}

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) {
    throw new Error(`memory quantity ${quantity} is not in Mi or Gi`);
  }

  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

function matchesLabels(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describeWithTool('kustomize overlays', KUBECTL, (kubectl) => {
  const rendered: Record<string, Manifest[]> = {};

  beforeAll(() => {
    rendered.local = render(kubectl, 'deploy/k8s/overlays/local');
    rendered.production = render(kubectl, 'deploy/k8s/overlays/production');
  });

  describe.each([['local'], ['production']])('%s overlay', (overlay) => {
    const manifests = () => rendered[overlay];
    const deployment = () => only(manifests(), 'Deployment');
    const container = () => containerOf(deployment());
    const podSpec = () => deployment().spec.template.spec;

    it('validates every object against the Kubernetes schema', () => {
      const errors = manifests().flatMap((manifest) => {
        try {
          validateAgainstSchema(manifest);

          return [];
        } catch (err) {
          return [`${manifest.kind}/${manifest.metadata.name}: ${(err as Error).message}`];
        }
      });

      expect(errors).toEqual([]);
    });

    it('renders the expected kinds', () => {
      const kinds = manifests().map((m) => m.kind);

      expect(kinds).toEqual(
        expect.arrayContaining([
          'Deployment',
          'Service',
          'ConfigMap',
          'PodDisruptionBudget',
          'HorizontalPodAutoscaler',
        ]),
      );
    });

    it('probes the health routes on container port 3000', () => {
      const ports: { name: string; containerPort: number }[] = container().ports;

      expect(ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: 3000 }));
      for (const [probe, path] of Object.entries(PROBE_PATHS)) {
        const httpGet = container()[probe]?.httpGet;
        const port =
          typeof httpGet?.port === 'string'
            ? ports.find((p) => p.name === httpGet.port)?.containerPort
            : httpGet?.port;

        expect({ probe, path: httpGet?.path, port }).toEqual({ probe, path, port: 3000 });
      }
    });

    it('rolls out without reducing capacity', () => {
      expect(deployment().spec.strategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
    });

    it('allows preStop, drain and wait cap within the grace period', () => {
      const env = environmentOf(manifests(), container());
      const drainSeconds = Number(env.SHUTDOWN_DRAIN_MS) / 1000;
      const waitCapSeconds = Number(env.SHUTDOWN_WAIT_CAP_MS) / 1000;
      const sleepSeconds = preStopSeconds(container());

      expect(drainSeconds).toBeGreaterThanOrEqual(0);
      expect(waitCapSeconds).toBeGreaterThanOrEqual(0);
      expect(sleepSeconds).toBeGreaterThan(0);
      expect(podSpec().terminationGracePeriodSeconds).toBeGreaterThan(
        sleepSeconds + drainSeconds + waitCapSeconds,
      );
    });

    it('runs as a non-root user without privileges', () => {
      const pod = podSpec().securityContext;
      const security = container().securityContext;

      expect(pod.runAsNonRoot).toBe(true);
      expect(pod.runAsUser).toBeGreaterThan(0);
      expect(security.readOnlyRootFilesystem).toBe(true);
      expect(security.allowPrivilegeEscalation).toBe(false);
      expect(security.capabilities?.drop).toEqual(['ALL']);
    });

    it('mounts an emptyDir at /tmp', () => {
      const mount = container().volumeMounts.find((m: any) => m.mountPath === '/tmp');
      const volume = podSpec().volumes.find((v: any) => v.name === mount?.name);

      expect(volume?.emptyDir).toBeDefined();
    });

    it('sets resource requests and limits', () => {
      const resources = container().resources;

      expect(resources.requests).toEqual(
        expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
      );
      expect(resources.limits).toEqual(
        expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
      );
    });

    it('keeps the V8 heap below the memory limit', () => {
      const env = environmentOf(manifests(), container());
      const heap = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);

      expect(heap).toBeLessThan(mebibytes(container().resources.limits.memory));
    });

    it('reads configuration from a rendered ConfigMap', () => {
      const names = container()
        .envFrom.map((source: any) => source.configMapRef?.name)
        .filter(Boolean);
      const configMaps = manifests()
        .filter((m) => m.kind === 'ConfigMap')
        .map((m) => m.metadata.name);

      expect(names.length).toBeGreaterThan(0);
      expect(configMaps).toEqual(expect.arrayContaining(names));
    });

    it('reads secrets from a Secret only', () => {
      const env: any[] = container().env ?? [];
      const secretNames = ['API_KEYS', 'SUNO_COOKIE'];

      for (const name of secretNames) {
        expect(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name).toBe(
          'suno-gateway-secrets',
        );
      }
      const configData = manifests()
        .filter((m) => m.kind === 'ConfigMap')
        .flatMap((m) => Object.keys(m.data ?? {}));

      expect(configData.filter((key) => /COOKIE|KEY|TOKEN|SECRET|PASSWORD/.test(key))).toEqual([]);
    });

    it('holds only placeholders in rendered Secrets', () => {
      const values = manifests()
        .filter((m) => m.kind === 'Secret')
        .flatMap((m) => [
          ...Object.values<string>(m.stringData ?? {}),
          ...Object.values<string>(m.data ?? {}).map((v) =>
            Buffer.from(v, 'base64').toString('utf8'),
          ),
        ]);

      expect(values.filter((value) => !value.includes(PLACEHOLDER))).toEqual([]);
    });

    it('annotates pods for Prometheus on the container port', () => {
      const annotations = deployment().spec.template.metadata.annotations;

      expect(annotations).toEqual(
        expect.objectContaining({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': '3000',
          'prometheus.io/path': '/metrics',
        }),
      );
    });

    it('selects the pods from the Service and the PodDisruptionBudget', () => {
      const podLabels = deployment().spec.template.metadata.labels;
      const service = only(manifests(), 'Service');
      const pdb = only(manifests(), 'PodDisruptionBudget');

      expect(Object.keys(service.spec.selector).length).toBeGreaterThan(0);
      expect(matchesLabels(service.spec.selector, podLabels)).toBe(true);
      expect(Object.keys(pdb.spec.selector?.matchLabels ?? {}).length).toBeGreaterThan(0);
      expect(matchesLabels(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
      expect(service.spec.ports.map((p: any) => p.targetPort)).toContain('http');
    });

    it('scales the Deployment from the autoscaler', () => {
      const hpa = only(manifests(), 'HorizontalPodAutoscaler');

      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: deployment().metadata.name,
      });
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
      expect(deployment().spec.replicas).toBe(hpa.spec.minReplicas);
    });

    it('configures Redis whenever it can run several replicas', () => {
      const hpa = only(manifests(), 'HorizontalPodAutoscaler');
      const env = environmentOf(manifests(), container());
      const secretKeys = (container().env ?? []).map((e: any) => e.name);

      if (Math.max(hpa.spec.maxReplicas, deployment().spec.replicas) > 1) {
        expect(Boolean(env.REDIS_URL) || secretKeys.includes('REDIS_URL')).toBe(true);
      }
    });
  });

  it('runs the local image suno-gateway:dev', () => {
    expect(containerOf(only(rendered.local, 'Deployment')).image).toBe('suno-gateway:dev');
  });

  it('pins the production image to a version', () => {
    const image: string = containerOf(only(rendered.production, 'Deployment')).image;
    const tag = image.includes('@') ? image.split('@')[1] : image.split('/').pop()?.split(':')[1];

    expect(tag).toBeDefined();
    expect(tag).not.toBe('latest');
  });

  it('runs more replicas in production than locally', () => {
    const replicas = (overlay: string) => only(rendered[overlay], 'Deployment').spec.replicas;

    expect(replicas('local')).toBeLessThanOrEqual(2);
    expect(replicas('production')).toBeGreaterThan(replicas('local'));
  });

  it('leaves the example Secret out of production', () => {
    expect(rendered.production.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(rendered.local.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name)).toEqual([
      'suno-gateway-secrets',
    ]);
  });

  it('renders the ServiceMonitor component against the Service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suno-servicemonitor-'));
    try {
      // kustomize accepts only relative paths to other kustomizations.
      const base = relative(dir, repoPath('deploy/k8s/base'));
      const component = relative(dir, repoPath('deploy/k8s/components/servicemonitor'));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${base}\ncomponents:\n  - ${component}\n`,
      );
      const manifests = render(kubectl, dir);
      const monitor = only(manifests, 'ServiceMonitor');
      const service = only(manifests, 'Service');

      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(matchesLabels(monitor.spec.selector.matchLabels, service.metadata.labels ?? {})).toBe(
        true,
      );
      expect(service.spec.ports.map((p: any) => p.name)).toContain(monitor.spec.endpoints[0].port);
      expect(monitor.spec.endpoints[0].path).toBe('/metrics');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
