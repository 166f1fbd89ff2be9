import { DEFAULT_ACCOUNT } from './accounts';
import type { RunningEmulator } from './server';
import { control, readJson, startQuiet, stats } from './spec-helpers';

function clientCall(emulator: RunningEmulator, query: string): Promise<Response> {
  return fetch(`${emulator.url}/v1/client?${query}`, {
    headers: { cookie: DEFAULT_ACCOUNT.cookie },
  });
}

function tokensCall(emulator: RunningEmulator, query: string): Promise<Response> {
  return fetch(`${emulator.url}/v1/client/sessions/${DEFAULT_ACCOUNT.sessionId}/tokens?${query}`, {
    method: 'POST',
    headers: { authorization: DEFAULT_ACCOUNT.clientToken },
  });
}

describe('max_clerk_js_version', () => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startQuiet();
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('accepts every version by default', async () => {
    const config = await readJson<{ max_clerk_js_version: unknown }>(
      await control(emulator, 'GET', '/config'),
    );

    expect(config.max_clerk_js_version).toBeNull();
    expect((await clientCall(emulator, '_clerk_js_version=99.0.0')).status).toBe(200);
  });

  it('rejects a newer version on both Clerk routes', async () => {
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: '5.34.0' });

    const client = await clientCall(emulator, '_clerk_js_version=5.35.0');
    const tokens = await tokensCall(emulator, '_clerk_js_version=5.117.0');

    expect(client.status).toBe(401);
    expect(tokens.status).toBe(401);
    const body = await readJson<{ errors: { code: string; long_message: string }[] }>(client);
    expect(body.errors[0].code).toBe('authentication_invalid');
    expect(body.errors[0].long_message).toContain('5.35.0');
    expect((await stats(emulator)).tokens_minted).toBe(0);
  });

  it('accepts older versions and no version', async () => {
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: '5.34.0' });

    for (const query of [
      '_clerk_js_version=5.34.0',
      '_clerk_js_version=5.9.12',
      '_is_native=true',
    ]) {
      expect({ query, status: (await clientCall(emulator, query)).status }).toEqual({
        query,
        status: 200,
      });
    }
    expect((await tokensCall(emulator, '_clerk_js_version=4.70.0')).status).toBe(200);
  });

  it('compares version parts as numbers', async () => {
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: '5.9.0' });

    expect((await clientCall(emulator, '_clerk_js_version=5.10.0')).status).toBe(401);
    expect((await clientCall(emulator, '_clerk_js_version=5.8.99')).status).toBe(200);
  });

  it('can be turned off again with null', async () => {
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: '5.34.0' });
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: null });

    expect((await clientCall(emulator, '_clerk_js_version=5.117.0')).status).toBe(200);
  });

  it('rejects a value that is not a version', async () => {
    for (const value of ['5.34', 'latest', 5, '']) {
      const response = await control(emulator, 'PATCH', '/config', { max_clerk_js_version: value });

      expect(response.status).toBe(400);
      expect((await readJson<{ detail: string }>(response)).detail).toContain(
        'max_clerk_js_version',
      );
    }
  });

  it('is turned off by a reset', async () => {
    await control(emulator, 'PATCH', '/config', { max_clerk_js_version: '5.34.0' });
    await control(emulator, 'POST', '/reset');

    expect((await clientCall(emulator, '_clerk_js_version=5.117.0')).status).toBe(200);
  });
});
