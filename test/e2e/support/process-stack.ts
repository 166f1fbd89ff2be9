/**
 * Runs the gateway as a real child process, the way a container runs it, so that specs can
 * send it signals and watch it exit. The child listens on 127.0.0.1 with a port it picks
 * itself and reports in its `listening on` log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_ACCOUNT } from '../../emulator';

const ROOT = resolve(__dirname, '../../..');

/** Parsed JSON log line of the gateway. */
export type LogLine = Record<string, unknown> & { msg?: string; time?: string; level?: string };

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the exit was observed. */
  atMs: number;
}

export interface GatewayProcess {
  url: string;
  port: number;
  pid: number;
  /** Every stdout line that parsed as JSON, oldest first. */
  logs(): LogLine[];
  /** stdout and stderr as written, for failure messages. */
  output(): string;
  signal(signal: NodeJS.Signals): void;
  /** Settles once the process has exited. */
  readonly exited: Promise<ProcessExit>;
}

export interface StartGatewayOptions {
  /** Gateway variables over `gatewayEnv` defaults. */
  env: Record<string, string>;
  /** How long the process may take to log `listening on`. Default 60 s (swc-node compiles on start). */
  startTimeoutMs?: number;
}

/**
 * Chooses how to start the gateway: the build in `dist/` when it exists and is newer than
 * every source file (CI builds before testing), otherwise the sources through swc-node, so a
 * stale build never hides a change under test.
 */
export function gatewayCommand(): { args: string[]; kind: 'dist' | 'swc-node' } {
  const built = join(ROOT, 'dist/main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestModification(join(ROOT, 'src'))) {
    return { args: [built], kind: 'dist' };
  }

  return { args: ['-r', '@swc-node/register', join(ROOT, 'src/main.ts')], kind: 'swc-node' };
}

function newestModification(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs,
    );
  }

  return newest;
}

/**
 * Gateway settings for a process against the emulator at `emulatorUrl`. The child gets no
 * variable of this process beyond PATH and HOME, so no OTEL_* or REDIS_URL of the developer's
 * shell sends it to another host.
 */
export function gatewayEnv(emulatorUrl: string, apiKey: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: `shutdown-test:${apiKey}`,
    SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
    SUNO_BASE_URL: emulatorUrl,
    SUNO_AUTH_URL: emulatorUrl,
    POLL_INTERVAL_MS: '250',
    WAIT_BUDGET_MS: '30000',
    WAIT_MAX_BUDGET_MS: '30000',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
}

/** Starts gateway processes and kills, by pid, the ones still running at `stopAll`. */
export class ProcessStack {
  private readonly children = new Set<ChildProcess>();

  async startGateway(options: StartGatewayOptions): Promise<GatewayProcess> {
    const { args } = gatewayCommand();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const exited = new Promise<ProcessExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.children.delete(child);
        resolveExit({ code, signal, atMs: Date.now() });
      });
    });
    const output = collectOutput(child);
    const port = await waitForListening(output, exited, options.startTimeoutMs ?? 60_000);

    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid as number,
      logs: () => output.lines,
      output: () => output.text,
      signal: (signal) => child.kill(signal),
      exited,
    };
  }

  /** Sends SIGKILL to every child still running and waits for their exit. */
  async stopAll(): Promise<void> {
    const running = [...this.children].map(
      (child) =>
        new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    );
    await Promise.all(running);
  }
}

interface Output {
  lines: LogLine[];
  text: string;
  onLine?: (line: LogLine) => void;
}

function collectOutput(child: ChildProcess): Output {
  const output: Output = { lines: [], text: '' };
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.text += chunk;
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      const line = parseLine(part);
      if (!line) continue;
      output.lines.push(line);
      output.onLine?.(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.text += chunk));

  return output;
}

function parseLine(text: string): LogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return undefined;
  }
}

function waitForListening(
  output: Output,
  exited: Promise<ProcessExit>,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `the gateway did not log "listening on" within ${timeoutMs} ms:\n${output.text.slice(-4000)}`,
          ),
        ),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      output.onLine = undefined;
      reject(err);
    };
    output.onLine = (line) => {
      if (
        typeof line.msg !== 'string' ||
        !line.msg.startsWith('listening on') ||
        typeof line.port !== 'number'
      )
        return;
      clearTimeout(timer);
      output.onLine = undefined;
      resolvePort(line.port);
    };
    void exited.then((exit) =>
      fail(
        new Error(
          `the gateway exited (${exit.signal ?? exit.code}) before listening:\n${output.text.slice(-4000)}`,
        ),
      ),
    );
  });
}
