/**
 * Harness of the observability specs: the emulator and the gateway on 127.0.0.1 with port 0,
 * a log capture, and small clients for the gateway, the emulator's faults and /metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../../src/config/load-config';
import { createApp } from '../../../src/create-app';
import { SessionService } from '../../../src/session/session.service';
import {
  DEFAULT_ACCOUNT,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../emulator';

export const API_KEY = 'obs-test-key-7f3a9c21d4';
/** Id of the API key above, as log lines show it in `client`. */
export const CLIENT_ID = 'observer';
/** Account id the gateway gives the single account configured through SUNO_COOKIE. */
export const ACCOUNT_ID = 'default';
export const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export type LogLine = Record<string, any>;

/** Log lines of one gateway, parsed from pino's JSON output. */
export class LogCapture implements DestinationStream {
  readonly raw: string[] = [];
  readonly lines: LogLine[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.raw.push(line);
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ unparsed: line });
      }
    }
  }

  forRequest(requestId: string): LogLine[] {
    return this.lines.filter((line) => line.request_id === requestId);
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sends no Authorization header. */
  anonymous?: boolean;
}

/** Sends one request over a fresh connection (`agent: false`), so no socket outlives the test. */
export function send(baseUrl: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (!options.anonymous) headers.authorization = `Bearer ${API_KEY}`;

  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, baseUrl),
      { method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Adds an emulator fault such as `{match: 'billing', action: 'status', status: 503, count: 1}`. */
export async function addFault(
  emulator: RunningEmulator,
  fault: Record<string, unknown>,
): Promise<void> {
  const answer = await send(emulator.url, '/__emulator/faults', { body: fault, anonymous: true });
  if (answer.status >= 300)
    throw new Error(
      `adding fault ${JSON.stringify(fault)} failed with ${answer.status}: ${answer.text}`,
    );
}

export async function clearFaults(emulator: RunningEmulator): Promise<void> {
  await send(emulator.url, '/__emulator/faults', { method: 'DELETE', anonymous: true });
}

export interface Stack {
  emulator: RunningEmulator;
  app: NestFastifyApplication;
  baseUrl: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Gateway variables over the defaults below. */
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Replaces the log capture, e.g. with a failing stream. */
  logDestination?: DestinationStream;
}

/** Starts the emulator and a gateway against it, and waits for the first session token. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0, quiet: true, ...options.emulator });
  const logs = new LogCapture();
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      API_KEYS: `${CLIENT_ID}:${API_KEY}`,
      SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
      SUNO_BASE_URL: emulator.url,
      SUNO_AUTH_URL: emulator.url,
      RETRY_BACKOFF_BASE_MS: '1',
      RETRY_BACKOFF_MAX_MS: '20',
      SESSION_BACKGROUND_REFRESH: 'false',
      POLL_INTERVAL_MS: '100',
      SHUTDOWN_DRAIN_MS: '0',
      LOG_LEVEL: 'info',
      ...options.env,
    });
    const app = await createApp({ config, logDestination: options.logDestination ?? logs });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.get(SessionService).firstLogin;
    const { port } = app.getHttpServer().address() as AddressInfo;

    return {
      emulator,
      app,
      baseUrl: `http://127.0.0.1:${port}`,
      logs,
      close: async () => {
        await app.close();
        await emulator.close();
      },
    };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** Fetches /metrics, optionally asking for OpenMetrics. */
export function scrape(baseUrl: string, accept = 'text/plain'): Promise<Answer> {
  return send(baseUrl, '/metrics', { anonymous: true, headers: { accept } });
}

/** Parses one sample line of the exposition into name, labels, value and exemplar. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: string;
}

export function parseSamples(exposition: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*?)\})? (\S+)(?: # (.*))?$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const [, name = '', labelText = '', value = '', exemplar] = match;
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name, labels, value: Number(value), exemplar });
  }

  return samples;
}

/** Value of the sample with this name whose labels include `labels`; 0 when absent. */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );

  return found?.value ?? 0;
}
