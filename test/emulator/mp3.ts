/**
 * MPEG audio frame parsing, enough to measure the playable length of an MP3 file.
 * Layouts follow ISO/IEC 11172-3 and 13818-3 (MPEG-1, MPEG-2 and the MPEG-2.5 extension).
 */

interface FrameHeader {
  /** 1 for MPEG-1, 2 for MPEG-2, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRate: number;
  samplesPerFrame: number;
  /** Frame length in bytes, header included. */
  length: number;
  mono: boolean;
  hasCrc: boolean;
}

// Bitrates in kbps by bitrate index 1..14; index 0 (free format) and 15 are not supported.
const BITRATES: Record<string, readonly number[]> = {
  '1-1': [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

const SAMPLE_RATES: Record<string, readonly number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/**
 * Returns the playable duration in seconds of an MP3 file: the number of audio frames times
 * the samples per frame, divided by the sample rate. Skips ID3v2 tags at the start, a
 * Xing/Info/VBRI header frame, and bytes between frames that are not a frame (such as an
 * ID3v1 tag at the end). A truncated last frame is not counted.
 * Throws when the buffer contains no MPEG audio frame.
 */
export function mp3DurationSeconds(buf: Buffer): number {
  let position = skipId3v2(buf, 0);
  let locked: FrameHeader | null = null;
  let seconds = 0;
  let frames = 0;

  while (position + 4 <= buf.length) {
    const header = readFrameHeader(buf, position);
    const accepted =
      header !== null &&
      position + header.length <= buf.length &&
      (locked === null ? confirmsSync(buf, position, header) : sameStream(locked, header));
    if (!accepted) {
      // Lost sync: search byte by byte and confirm the next candidate again.
      locked = null;
      position += 1;
      continue;
    }

    if (!(frames === 0 && isVbrInfoFrame(buf, position, header))) {
      seconds += header.samplesPerFrame / header.sampleRate;
    }
    frames += 1;
    locked = header;
    position += header.length;
  }
  if (frames === 0) {
    throw new Error(`no MPEG audio frame found in ${buf.length} bytes`);
  }

  return seconds;
}

/** Returns the offset after any ID3v2 tags that start at `offset`. */
function skipId3v2(buf: Buffer, offset: number): number {
  let position = offset;
  while (position + 10 <= buf.length && buf.toString('latin1', position, position + 3) === 'ID3') {
    // The size is "synchsafe": four bytes with 7 significant bits each.
    const size =
      ((buf[position + 6] & 0x7f) << 21) |
      ((buf[position + 7] & 0x7f) << 14) |
      ((buf[position + 8] & 0x7f) << 7) |
      (buf[position + 9] & 0x7f);
    const hasFooter = (buf[position + 5] & 0x10) !== 0;
    position += 10 + size + (hasFooter ? 10 : 0);
  }

  return position;
}

// MPEG version by the header's two version bits. The value 1 is reserved and rejected first.
const VERSIONS = { 0: 2.5, 2: 2, 3: 1 } as const;

/** Parses the 4-byte frame header at `offset`, or returns null if it is not a valid one. */
export function readFrameHeader(buf: Buffer, offset: number): FrameHeader | null {
  const b1 = buf[offset + 1];
  const b2 = buf[offset + 2];
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;

  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15) {
    return null;
  }
  if (rateIndex === 3) return null;

  const version = VERSIONS[versionBits as 0 | 2 | 3];
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const kbps = BITRATES[`${version === 1 ? 1 : 2}-${layer}`][bitrateIndex - 1];
  const sampleRate = SAMPLE_RATES[String(version)][rateIndex];
  const padding = (b2 >> 1) & 1;

  return {
    version,
    layer,
    sampleRate,
    samplesPerFrame: samplesPerFrame(version, layer),
    length: frameLength(version, layer, kbps * 1000, sampleRate, padding),
    mono: buf[offset + 3] >> 6 === 3,
    hasCrc: (b1 & 1) === 0,
  };
}

function samplesPerFrame(version: number, layer: number): number {
  if (layer === 1) return 384;
  if (layer === 2 || version === 1) return 1152;

  return 576;
}

function frameLength(
  version: number,
  layer: number,
  bitrate: number,
  sampleRate: number,
  padding: number,
): number {
  if (layer === 1) {
    return (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  }
  // Layer III of MPEG-2 and 2.5 has half the samples per frame, hence half the factor.
  const factor = layer === 3 && version !== 1 ? 72 : 144;

  return Math.floor((factor * bitrate) / sampleRate) + padding;
}

/**
 * Accepts a first frame only if the next frame starts right after it or the file ends there,
 * so that a stray 0xFF byte in a tag is not taken for audio.
 */
function confirmsSync(buf: Buffer, offset: number, header: FrameHeader): boolean {
  const next = offset + header.length;
  if (next === buf.length) return true;
  if (next + 4 > buf.length) return false;
  const following = readFrameHeader(buf, next);

  return following !== null && sameStream(header, following);
}

function sameStream(a: FrameHeader, b: FrameHeader): boolean {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

const SIDE_INFO_BYTES = { 1: [17, 32], 2: [9, 17] } as const;

/** Checks whether the frame carries an encoder's Xing, Info or VBRI header instead of audio. */
function isVbrInfoFrame(buf: Buffer, offset: number, header: FrameHeader): boolean {
  if (header.layer !== 3) return false;

  // Side information: 17 or 32 bytes for MPEG-1 (mono or stereo), 9 or 17 bytes for MPEG-2 and 2.5.
  const sideInfo = SIDE_INFO_BYTES[header.version === 1 ? 1 : 2][header.mono ? 0 : 1];
  const xingAt = offset + 4 + (header.hasCrc ? 2 : 0) + sideInfo;
  const tag = buf.toString('latin1', xingAt, xingAt + 4);
  if (tag === 'Xing' || tag === 'Info') return true;

  // Fraunhofer's VBRI header sits at a fixed 32 bytes after the frame header.
  return buf.toString('latin1', offset + 36, offset + 40) === 'VBRI';
}
