/**
 * The demo flow against the emulator: songs in both modes, waits that end on completion,
 * on the budget, on streaming and on moderation, and clips without empty-string URLs.
 */
import { mp3DurationSeconds } from '../emulator';
import { startStack, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LYRICS = '[Verse]\nNeon rain on the harbour wall\n[Chorus]\nHold the night, hold it all';
const CUSTOM = {
  prompt: LYRICS,
  title: 'Harbour Lights',
  tags: 'synthwave, female vocals',
  mv: 'chirp-v3-5',
};
const URL_FIELDS = ['audio_url', 'stream_url', 'image_url', 'video_url'] as const;

describe('demo flow', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 2, clipDurationS: 3 } });
  });

  afterEach(async () => {
    await stack?.resetUpstream();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('custom mode wait returns two playable clips', async () => {
    const response = await stack.request('POST', '/v1/generations?wait=true', { body: CUSTOM });

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('complete');
    expect(response.body.kind).toBe('custom');
    expect(response.body.id).toMatch(UUID);
    expect(response.body.clips).toHaveLength(2);
    for (const clip of response.body.clips) {
      expect(clip.status).toBe('complete');
      expect(clip.title).toBe(CUSTOM.title);
      expect(clip.lyrics).toBe(LYRICS);
      expect(clip.tags).toBe(CUSTOM.tags);
      expect(clip.model).toBe('chirp-v3-5');
      expect(clip.stream_url).toBeNull();
      expect(typeof clip.audio_url).toBe('string');
      expect(clip.duration).toBeGreaterThan(1);

      const audio = await fetch(clip.audio_url);
      expect(audio.status).toBe(200);
      expect(audio.headers.get('content-type')).toBe('audio/mpeg');
      const bytes = Buffer.from(await audio.arrayBuffer());
      expect(Math.abs(mp3DurationSeconds(bytes) - clip.duration)).toBeLessThanOrEqual(0.05);
    }
  });

  it('description mode wait returns written lyrics', async () => {
    const description = 'a slow ballad about lighthouses and winter storms';
    const response = await stack.request('POST', '/v1/generations?wait=true', {
      body: { gpt_description_prompt: description, mv: 'chirp-v3-5' },
    });

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('complete');
    expect(response.body.kind).toBe('description');
    expect(response.body.clips).toHaveLength(2);
    for (const clip of response.body.clips) {
      expect(clip.gpt_description_prompt).toBe(description);
      expect(clip.lyrics).toContain('[Verse]');
      expect(clip.title).toEqual(expect.any(String));
      expect(clip.audio_url).toEqual(expect.stringMatching(/\.mp3$/));
    }
  });

  it('generation read by id matches the created one', async () => {
    const created = await stack.request('POST', '/v1/generations?wait=true', { body: CUSTOM });
    expect(created.status).toBe(200);

    const read = await stack.request('GET', `/v1/generations/${created.body.id}`);

    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.body.id);
    expect(read.body.status).toBe('complete');
    expect(read.body.finished_at).toEqual(expect.any(String));
    expect(read.body.clips.map((c: { id: string }) => c.id)).toEqual(
      created.body.clips.map((c: { id: string }) => c.id),
    );

    const unknown = await stack.request(
      'GET',
      '/v1/generations/00000000-0000-4000-8000-000000000000',
    );
    expectProblem(unknown, 404, 'NOT_FOUND');
  });

  it('tiny timeout returns 202 with clip states', async () => {
    const response = await stack.request('POST', '/v1/generations?wait=true&timeout_s=0.1', {
      body: CUSTOM,
    });

    expect(response.status).toBe(202);
    expect(['submitted', 'queued']).toContain(response.body.status);
    expect(response.body.finished_at).toBeNull();
    expect(response.body.clips).toHaveLength(2);
    for (const clip of response.body.clips) {
      expect(['submitted', 'queued']).toContain(clip.status);
      expect(clip.id).toMatch(UUID);
      expect(clip.audio_url).toBeNull();
    }

    const later = await stack.request(
      'GET',
      `/v1/generations/${response.body.id}?wait=true&timeout_s=10`,
    );
    expect(later.status).toBe(200);
    expect(later.body.status).toBe('complete');
  });

  it('wait_for streaming returns stream urls before audio', async () => {
    // Six seconds per song leave about four seconds of streaming to observe.
    await stack.patchEmulatorConfig({ generation_s: 6 });

    const response = await stack.request(
      'POST',
      '/v1/generations?wait=true&wait_for=streaming&timeout_s=10',
      { body: CUSTOM },
    );

    expect(response.status).toBe(202);
    expect(response.body.status).toBe('streaming');
    for (const clip of response.body.clips) {
      expect(clip.status).toBe('streaming');
      expect(clip.audio_url).toBeNull();
      expect(typeof clip.stream_url).toBe('string');
      expect(clip.duration).toBeNull();
    }
    const stream = await fetch(response.body.clips[0].stream_url);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('audio/mpeg');
    await stream.arrayBuffer();
  });

  it('moderated description ends the wait with CONTENT_REJECTED', async () => {
    // Clips fail at 35% of the generation time, 1.4 s here, against a 20 s wait budget.
    await stack.patchEmulatorConfig({ generation_s: 4 });
    const started = Date.now();

    const response = await stack.request('POST', '/v1/generations?wait=true&timeout_s=20', {
      body: { gpt_description_prompt: 'a song in the style of ForbiddenBand', mv: 'chirp-v3-5' },
    });
    const elapsedMs = Date.now() - started;

    expectProblem(response, 422, 'CONTENT_REJECTED');
    expect(response.body.detail).toContain('Your description contained an artist name');
    expect(response.body.generation_id).toMatch(UUID);
    expect(elapsedMs).toBeLessThan(8_000);
    expect(response.text).not.toContain('None.mp3');
    const clips = response.body.generation.clips as Record<string, unknown>[];
    expect(clips).toHaveLength(2);
    for (const clip of clips) {
      expect(clip.status).toBe('error');
      expect(clip.audio_url).toBeNull();
      expect(clip.error_message).toEqual(expect.stringContaining('artist name'));
    }

    const single = await stack.request('GET', `/v1/clips/${clips[0].id}`);
    expect(single.status).toBe(200);
    expect(single.body.status).toBe('error');
    expect(single.body.audio_url).toBeNull();
    expect(single.text).not.toContain('None.mp3');
  });

  it('moderated lyrics carry the upstream message', async () => {
    const response = await stack.request('POST', '/v1/generations?wait=true&timeout_s=20', {
      body: { ...CUSTOM, prompt: 'I sing every forbiddenband chorus word for word' },
    });

    expectProblem(response, 422, 'CONTENT_REJECTED');
    expect(response.body.detail).toContain('Your lyrics contain copyrighted material');
  });

  it('fresh clips report null instead of empty strings', async () => {
    const response = await stack.request('POST', '/v1/generations', {
      body: { prompt: LYRICS, mv: 'chirp-v3-5' },
    });

    expect(response.status).toBe(202);
    expect(response.body.status).toBe('submitted');
    for (const clip of response.body.clips) {
      expect(clip.status).toBe('submitted');
      for (const field of URL_FIELDS) expect(clip[field]).toBeNull();
      expect(clip.duration).toBeNull();
      expect(clip.tags).toBeNull();
      expect(clip.negative_tags).toBeNull();
      expect(clip.error_message).toBeNull();
    }
    expect(response.text).not.toContain('""');
  });
});
