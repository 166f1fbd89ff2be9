/** Helpers shared by the emulator specs. Every call goes over HTTP, as a gateway's would. */
import { DEFAULT_ACCOUNT } from './accounts';
import type { EmulatorOptions } from './config';
import { startEmulator, type RunningEmulator } from './server';

export function startQuiet(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, quiet: true, clipDurationS: 2, ...options });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function readJson<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Mints a session JWT through the Clerk tokens route with a `__client` value. */
export async function mintJwt(
  emulator: RunningEmulator,
  client: string = DEFAULT_ACCOUNT.clientToken,
  sessionId: string = DEFAULT_ACCOUNT.sessionId,
): Promise<string> {
  const response = await fetch(`${emulator.url}/v1/client/sessions/${sessionId}/tokens`, {
    method: 'POST',
    headers: { cookie: `__client=${client}` },
  });
  if (response.status !== 200) {
    throw new Error(`token mint failed with ${response.status}: ${await response.text()}`);
  }

  return (await readJson<{ jwt: string }>(response)).jwt;
}

/** Calls a studio route with `Authorization: Bearer <jwt>`, sending `body` as JSON if given. */
export function studio(
  emulator: RunningEmulator,
  jwt: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${emulator.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export interface ClipJson {
  id: string;
  status: string;
  title: string;
  audio_url: string;
  video_url: string;
  image_url: string | null;
  metadata: Record<string, unknown> & { duration: number | null };
}

export async function generate(
  emulator: RunningEmulator,
  jwt: string,
  body: Record<string, unknown> = { gpt_description_prompt: 'a song about rain' },
): Promise<{ id: string; clips: ClipJson[] }> {
  const response = await studio(emulator, jwt, '/api/generate/v2/', body);
  if (response.status !== 200) {
    throw new Error(`generate failed with ${response.status}: ${await response.text()}`);
  }

  return readJson(response);
}

export async function getClip(
  emulator: RunningEmulator,
  jwt: string,
  id: string,
): Promise<ClipJson> {
  return readJson<ClipJson>(await studio(emulator, jwt, `/api/clip/${id}`));
}

/**
 * Polls the clip every 20 ms until `done` accepts it or `timeoutMs` passes. Returns the last
 * clip and the first snapshot of each status seen, in order.
 */
export async function pollClip(
  emulator: RunningEmulator,
  jwt: string,
  id: string,
  done: (clip: ClipJson) => boolean,
  timeoutMs = 5000,
): Promise<{ clip: ClipJson; phases: ClipJson[] }> {
  const phases: ClipJson[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clip = await getClip(emulator, jwt, id);
    if (phases[phases.length - 1]?.status !== clip.status) phases.push(clip);
    if (done(clip) || Date.now() > deadline) return { clip, phases };
    await sleep(20);
  }
}

export const isSettled = (clip: ClipJson): boolean =>
  clip.status === 'complete' || clip.status === 'error';

export async function control(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${emulator.url}/__emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function stats(emulator: RunningEmulator): Promise<
  Record<string, unknown> & {
    requests: Record<string, number>;
    generations: number;
    clips: number;
    tokens_minted: number;
    credits: Record<string, number>;
  }
> {
  return readJson(await control(emulator, 'GET', '/stats'));
}
