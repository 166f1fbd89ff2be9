import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** CPU lists of the load generator and of the servers under test. */
export interface CpuPlan {
  /** `taskset` CPU list of the harness process (load generator, OTLP sink). */
  client: string;
  /** `taskset` CPU list of the emulator, the gateway and the minimal proxy. */
  servers: string;
}

/** A child process the harness started; `stop()` ends it and is safe to call twice. */
export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<Service>();
const STOP_GRACE_MS = 10_000;

/**
 * Gives the load generator CPU 0 and the servers the other CPUs. Returns null when the machine
 * has one CPU or no `taskset`, and then every process shares every CPU.
 */
export function planCpus(): CpuPlan | null {
  const count = cpus().length;
  if (count < 2 || !commandExists('taskset')) return null;

  return { client: '0', servers: count === 2 ? '1' : `1-${count - 1}` };
}

/** Pins every thread of the harness process to `plan.client`. */
export function pinHarness(plan: CpuPlan): void {
  execFileSync('taskset', ['-a', '-p', '-c', plan.client, String(process.pid)], {
    stdio: 'ignore',
  });
}

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface SpawnInput {
  name: string;
  /** Arguments of `node`, such as `['dist/main.js']`. */
  nodeArgs: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logDir: string;
  /** `taskset` CPU list, or undefined to inherit the harness's CPUs. */
  cpuList?: string;
}

/** Starts `node` with stdout and stderr written to `<logDir>/<name>.log`. */
export function spawnService(input: SpawnInput): Service {
  const logPath = join(input.logDir, `${input.name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const command = input.cpuList === undefined ? process.execPath : 'taskset';
  const args =
    input.cpuList === undefined
      ? input.nodeArgs
      : ['-c', input.cpuList, process.execPath, ...input.nodeArgs];
  const child = spawn(command, args, {
    cwd: input.cwd,
    env: input.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (child.pid === undefined) {
    throw new Error(`could not start ${input.name}: ${command} ${args.join(' ')}`);
  }

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const service: Service = {
    name: input.name,
    pid: child.pid,
    logPath,
    child,
    stop: () =>
      (stopping ??= stopChild(child, exited).finally(() => {
        running.delete(service);
        log.end();
      })),
  };
  running.add(service);

  return service;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;

  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Stops every service that is still running, in reverse start order. */
export async function stopAll(): Promise<void> {
  for (const service of [...running].reverse()) await service.stop();
}

/**
 * Polls `url` until it returns a 2xx status. Throws when the service exits first or
 * `timeoutMs` passes, quoting the end of its log.
 */
export async function waitForHttp(service: Service, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`${service.name} exited before it was ready:\n${logTail(service.logPath)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }

  throw new Error(
    `${service.name} returned no 2xx response from ${url} within ${timeoutMs} ms:\n${logTail(service.logPath)}`,
  );
}

export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let clockTicksPerS: number | undefined;

/** USER_HZ, the unit of CPU times in /proc; 100 on mainstream Linux when getconf is missing. */
function clockTicks(): number {
  if (clockTicksPerS === undefined) {
    try {
      clockTicksPerS =
        Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerS = 100;
    }
  }

  return clockTicksPerS;
}

/** User plus system CPU seconds the process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');

  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/**
 * CPU seconds every process of the machine has used (all CPUs together), from the first
 * line of /proc/stat: user, nice, system, irq, softirq and steal time.
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);

  return (user + nice + system + irq + softirq + (steal ?? 0)) / clockTicks();
}

/** Resident set size in bytes, from the VmRSS line of /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS line`);

  return Number(match[1]) * 1024;
}
