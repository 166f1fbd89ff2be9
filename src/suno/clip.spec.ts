import { parseClip, parseClipList } from './clip';
import { UpstreamError } from './upstream-error';

const base = {
  id: '11111111-1111-4111-8111-111111111111',
  title: 'Rain',
  model_name: 'chirp-crow',
  created_at: '2026-01-01T00:00:00Z',
  metadata: { prompt: '[Verse] rain', tags: 'lofi', duration: null },
};

describe('parseClip', () => {
  it('turns empty URLs into null while submitted', () => {
    const clip = parseClip(
      { ...base, status: 'submitted', audio_url: '', video_url: '', image_url: null },
      'feed',
    );

    expect(clip.audio_url).toBeNull();
    expect(clip.stream_url).toBeNull();
    expect(clip.video_url).toBeNull();
    expect(clip.image_url).toBeNull();
  });

  it('reports a streaming URL apart from the final audio', () => {
    const clip = parseClip(
      { ...base, status: 'streaming', audio_url: 'https://audiopipe.example/?item_id=1' },
      'feed',
    );

    expect(clip.stream_url).toBe('https://audiopipe.example/?item_id=1');
    expect(clip.audio_url).toBeNull();
  });

  it('reports the final audio only when complete', () => {
    const clip = parseClip(
      {
        ...base,
        status: 'complete',
        audio_url: 'https://cdn.example/1.mp3',
        metadata: { ...base.metadata, duration: 95.5 },
      },
      'feed',
    );

    expect(clip.audio_url).toBe('https://cdn.example/1.mp3');
    expect(clip.stream_url).toBeNull();
    expect(clip.duration).toBe(95.5);
  });

  it('never reports None.mp3 as audio', () => {
    const clip = parseClip(
      {
        ...base,
        status: 'error',
        audio_url: 'https://cdn.example/None.mp3',
        metadata: { error_message: 'artist name' },
      },
      'clip',
    );

    expect(clip.audio_url).toBeNull();
    expect(clip.error_message).toBe('artist name');
  });

  it('ignores unknown fields and tolerates missing ones', () => {
    const clip = parseClip({ id: base.id, play_count: 7, reaction: null }, 'clip');

    expect(clip.status).toBe('queued');
    expect(clip.title).toBeNull();
    expect(clip.tags).toBeNull();
    expect(clip.duration).toBeNull();
  });

  it('flags the degraded-account marker', () => {
    const clip = parseClip(
      { ...base, status: 'complete', metadata: { prompt: 'This is a fake app. [Verse]' } },
      'clip',
    );

    expect(clip.suspect_degraded).toBe(true);
  });

  it('rejects a clip without an id', () => {
    expect(() => parseClip({ title: 'x' }, 'feed')).toThrow(UpstreamError);
  });
});

describe('parseClipList', () => {
  it('reads a bare array and a clips object', () => {
    expect(parseClipList([base], 'feed')).toHaveLength(1);
    expect(parseClipList({ clips: [base, { ...base, id: '2' }] }, 'feed')).toHaveLength(2);
  });

  it('rejects a body without a clip list', () => {
    expect(() => parseClipList({ detail: 'x' }, 'feed')).toThrow(/no clip list/);
  });
});
