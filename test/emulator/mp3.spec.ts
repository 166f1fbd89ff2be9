import { coverImage, songAudio } from './audio';
import { mp3DurationSeconds, readFrameHeader } from './mp3';

// MPEG-1 Layer III, 128 kbps, 44100 Hz, stereo, no CRC: 417 bytes, 418 with padding.
const MPEG1_HEADER = [0xff, 0xfb, 0x90, 0x00];
// MPEG-2 Layer III, 48 kbps, 24000 Hz, mono, no CRC: 144 bytes.
const MPEG2_HEADER = [0xff, 0xf3, 0x64, 0xc0];

function frame(header: number[], length: number, padded = false): Buffer {
  const bytes = Buffer.alloc(length + (padded ? 1 : 0));
  bytes.set(header);
  if (padded) bytes[2] |= 0x02;

  return bytes;
}

function frames(header: number[], length: number, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => frame(header, length)));
}

function id3v2Tag(payload: Buffer): Buffer {
  const size = payload.length;
  const header = Buffer.from([
    0x49,
    0x44,
    0x33,
    4,
    0,
    0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ]);

  return Buffer.concat([header, payload]);
}

describe('mp3DurationSeconds', () => {
  it('counts MPEG-1 Layer III frames', () => {
    expect(mp3DurationSeconds(frames(MPEG1_HEADER, 417, 100))).toBeCloseTo((100 * 1152) / 44100, 9);
  });

  it('counts MPEG-2 Layer III frames at 576 samples each', () => {
    expect(mp3DurationSeconds(frames(MPEG2_HEADER, 144, 50))).toBeCloseTo(1.2, 9);
  });

  it('walks frames with and without padding', () => {
    const mixed = Buffer.concat([
      frame(MPEG1_HEADER, 417, true),
      frame(MPEG1_HEADER, 417),
      frame(MPEG1_HEADER, 417, true),
    ]);

    expect(mp3DurationSeconds(mixed)).toBeCloseTo((3 * 1152) / 44100, 9);
  });

  it('skips an ID3v2 tag that contains sync-like bytes', () => {
    const payload = Buffer.alloc(300, 0);
    payload.set(MPEG1_HEADER, 20);
    const file = Buffer.concat([id3v2Tag(payload), frames(MPEG2_HEADER, 144, 10)]);

    expect(mp3DurationSeconds(file)).toBeCloseTo(0.24, 9);
  });

  it('excludes a Xing header frame', () => {
    const info = frame(MPEG1_HEADER, 417);
    info.write('Xing', 4 + 32, 'latin1');
    const file = Buffer.concat([info, frames(MPEG1_HEADER, 417, 10)]);

    expect(mp3DurationSeconds(file)).toBeCloseTo((10 * 1152) / 44100, 9);
  });

  it('ignores leading garbage and a trailing ID3v1 tag', () => {
    const tag = Buffer.alloc(128, 0x20);
    tag.write('TAG', 0, 'latin1');
    const file = Buffer.concat([Buffer.from([1, 2, 0xff, 3]), frames(MPEG2_HEADER, 144, 5), tag]);

    expect(mp3DurationSeconds(file)).toBeCloseTo(0.12, 9);
  });

  it('does not count a truncated last frame', () => {
    const file = Buffer.concat([
      frames(MPEG2_HEADER, 144, 5),
      frame(MPEG2_HEADER, 144).subarray(0, 60),
    ]);

    expect(mp3DurationSeconds(file)).toBeCloseTo(0.12, 9);
  });

  it('throws for data without frames', () => {
    expect(() => mp3DurationSeconds(Buffer.from('not an mp3 file at all'))).toThrow(
      /no MPEG audio frame/,
    );
  });

  it('rejects reserved header fields', () => {
    expect(readFrameHeader(Buffer.from([0xff, 0xfb, 0xf0, 0x00]), 0)).toBeNull();
    expect(readFrameHeader(Buffer.from([0xff, 0xfb, 0x9c, 0x00]), 0)).toBeNull();
    expect(readFrameHeader(Buffer.from([0xff, 0xe9, 0x90, 0x00]), 0)).toBeNull();
  });
});

describe('songAudio', () => {
  it('encodes an MP3 whose duration matches its frame count', () => {
    const { mp3, durationS } = songAudio(3);
    const header = readFrameHeader(mp3, 0);

    expect(header).toMatchObject({ version: 2, layer: 3, sampleRate: 24000, length: 144 });
    // Constant 48 kbps at 24 kHz without padding: every frame is 144 bytes of 576 samples.
    expect(mp3.length % 144).toBe(0);
    expect(durationS).toBeCloseTo(((mp3.length / 144) * 576) / 24000, 3);
    expect(durationS).toBeGreaterThanOrEqual(3);
    expect(durationS).toBeLessThan(3.1);
  });

  it('encodes each length once', () => {
    expect(songAudio(2.5)).toBe(songAudio(2.5));
    expect(songAudio(2.5).mp3).not.toBe(songAudio(3).mp3);
  });

  it('produces audible samples', () => {
    const { mp3 } = songAudio(3);
    // A silent encode is mostly zero bytes after the headers; music is not.
    const zeros = mp3.filter((byte) => byte === 0).length;

    expect(zeros / mp3.length).toBeLessThan(0.5);
  });
});

describe('coverImage', () => {
  it('is a PNG with IHDR and IEND chunks', () => {
    const png = coverImage();

    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.toString('latin1', png.length - 8, png.length - 4)).toBe('IEND');
  });
});
