import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load-config';
import { createApp } from '../../src/create-app';
import { DEFAULT_ACCOUNT, RunningEmulator, startEmulator } from '../emulator';

/**
 * Clerk rotates `__client`; a restarted gateway must come back with the newest value, not
 * the one pasted into its environment. Uses the real Redis on 127.0.0.1:6379.
 */
describe('rotated cookie persistence', () => {
  let emulator: RunningEmulator;
  let redis: Redis;
  const key = randomBytes(32).toString('base64');

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quiet: true, jwtTtlS: 60 });
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await redis.quit();
    await emulator.close();
  });

  async function startGateway(
    accountId: string,
    encryptionKey?: string,
  ): Promise<NestFastifyApplication> {
    const accountsFile = await writeAccounts(accountId);
    const config = loadConfig({
      API_KEYS: 'test:persistence-key',
      SUNO_ACCOUNTS_FILE: accountsFile,
      SUNO_BASE_URL: emulator.url,
      SUNO_AUTH_URL: emulator.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ...(encryptionKey ? { SESSION_ENCRYPTION_KEY: encryptionKey } : {}),
      LOG_LEVEL: 'warn',
    });
    const app = await createApp({
      config,
      logDestination: new Writable({ write: (_chunk, _enc, done) => done() }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });

    return app;
  }

  async function writeAccounts(accountId: string): Promise<string> {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'accounts-')), 'accounts.json');
    writeFileSync(file, JSON.stringify([{ id: accountId, cookie: DEFAULT_ACCOUNT.cookie }]));

    return file;
  }

  async function credits(app: NestFastifyApplication): Promise<number> {
    const { port } = app.getHttpServer().address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/v1/credits`, {
      headers: { authorization: 'Bearer persistence-key' },
    });

    return res.status;
  }

  async function staleUses(): Promise<number> {
    const res = await fetch(`${emulator.url}/__emulator/stats`);

    return ((await res.json()) as { stale_client_uses: number }).stale_client_uses;
  }

  it('reuses the rotated cookie after a restart', async () => {
    await fetch(`${emulator.url}/__emulator/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rotate_every: 1 }),
    });
    const accountId = `persist-${randomUUID().slice(0, 8)}`;

    const first = await startGateway(accountId, key);
    expect(await credits(first)).toBe(200);
    await first.close();
    const before = await staleUses();

    const second = await startGateway(accountId, key);
    expect(await credits(second)).toBe(200);
    await second.close();

    expect(await staleUses()).toBe(before);
  });

  it('falls back to the configured cookie without a key', async () => {
    await fetch(`${emulator.url}/__emulator/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rotate_every: 1 }),
    });
    const accountId = `plain-${randomUUID().slice(0, 8)}`;

    const first = await startGateway(accountId);
    expect(await credits(first)).toBe(200);
    await first.close();
    const before = await staleUses();

    const second = await startGateway(accountId);
    expect(await credits(second)).toBe(200);
    await second.close();

    expect(await staleUses()).toBeGreaterThan(before);
  });
});
