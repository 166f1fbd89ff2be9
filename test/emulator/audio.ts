import { readFileSync } from 'node:fs';
import { runInThisContext } from 'node:vm';
import { deflateSync } from 'node:zlib';
import type { Mp3Encoder } from '@breezystack/lamejs';
import { mp3DurationSeconds } from './mp3';

/** An encoded song and its playable length measured from its frames. */
export interface EncodedAudio {
  readonly mp3: Buffer;
  readonly durationS: number;
}

type Mp3EncoderClass = new (channels: number, sampleRate: number, kbps: number) => Mp3Encoder;

const SAMPLE_RATE = 24000;
const KBPS = 48;
// Samples passed to each encodeBuffer call, which bounds the size of each returned chunk.
const CHUNK_SAMPLES = 1152;

let encoderClass: Mp3EncoderClass | null = null;

/**
 * Loads lamejs from its IIFE build. Under CommonJS, `require('@breezystack/lamejs')` resolves
 * (through the package's `exports.default.require` condition, version 1.2.7) to
 * `dist/lamejs.iife.js`, which only declares a script-level `var lamejs` and exports nothing,
 * so `require` returns `{}`. The ESM build cannot be loaded by Jest's CommonJS module loader.
 * So the IIFE source runs in a function that returns that variable. It is compiled in Node's
 * main context because inside Jest's sandbox every global lookup of the encoder is slow:
 * encoding a 3 s song under Jest 29 took 965 ms that way against 380 ms (one measurement).
 * Another quirk: `encodeBuffer` and `flush` return Int8Array although type.d.ts declares Uint8Array.
 */
function loadEncoderClass(): Mp3EncoderClass {
  if (encoderClass !== null) return encoderClass;

  const entry = require.resolve('@breezystack/lamejs');
  const source = readFileSync(entry, 'utf8');
  const lame = runInThisContext(`(function () {\n${source}\nreturn lamejs;\n})()`, {
    filename: entry,
  }) as { Mp3Encoder?: Mp3EncoderClass };
  if (typeof lame.Mp3Encoder !== 'function') {
    throw new Error(
      `Failed to load Mp3Encoder: ${entry} did not define it. Check that this lamejs build still declares \`var lamejs\`.`,
    );
  }
  encoderClass = lame.Mp3Encoder;

  return encoderClass;
}

// Keyed by the requested length in milliseconds, so each distinct length is encoded once.
const audioCache = new Map<number, EncodedAudio>();

/**
 * Returns the MP3 for a song of about `seconds`, encoding it on first use. Encoding a 12 s
 * song blocked the event loop for about 0.5 s on a 2-core VM, so the server encodes its
 * length before it starts listening.
 */
export function songAudio(seconds: number): EncodedAudio {
  const key = Math.round(seconds * 1000);
  const cached = audioCache.get(key);
  if (cached) return cached;

  const mp3 = encodeMp3(synthesizeMelody(key / 1000));
  const encoded = { mp3, durationS: roundMs(mp3DurationSeconds(mp3)) };
  audioCache.set(key, encoded);

  return encoded;
}

function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function encodeMp3(samples: Int16Array): Buffer {
  const Encoder = loadEncoderClass();
  const encoder = new Encoder(1, SAMPLE_RATE, KBPS);
  const parts: Buffer[] = [];
  const keep = (bytes: Int8Array | Uint8Array): void => {
    // Copy the bytes, so the chunk stays valid even if lamejs reuses its output buffer.
    if (bytes.length > 0) {
      parts.push(Buffer.from(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
    }
  };

  for (let start = 0; start < samples.length; start += CHUNK_SAMPLES) {
    keep(encoder.encodeBuffer(samples.subarray(start, start + CHUNK_SAMPLES)));
  }
  keep(encoder.flush());

  return Buffer.concat(parts);
}

// A pentatonic phrase in Hz (C4 D4 E4 G4 A4 G4 E4 D4), one note per quarter second, over a
// bass line that changes every bar of 8 notes.
const PHRASE = [261.63, 293.66, 329.63, 392.0, 440.0, 392.0, 329.63, 293.66];
const BASS = [130.81, 98.0, 110.0, 87.31];
const NOTE_S = 0.25;
// Bound once because global lookups are slow inside Jest's sandbox, where this also runs.
const { sin, exp, abs, min, round, PI } = Math;

/**
 * Renders a looping melody: sine plus triangle notes with a 10 ms attack and an exponential
 * decay, over a quieter sine bass.
 */
export function synthesizeMelody(seconds: number): Int16Array {
  const total = Math.max(1, Math.round(seconds * SAMPLE_RATE));
  const samples = new Int16Array(total);
  const noteSamples = Math.round(NOTE_S * SAMPLE_RATE);
  const attackSamples = 0.01 * SAMPLE_RATE;
  const decayPerSample = exp(-6 / SAMPLE_RATE);

  for (let start = 0, note = 0; start < total; start += noteSamples, note += 1) {
    const leadStep = PHRASE[note % PHRASE.length] / SAMPLE_RATE;
    const bassStep = BASS[Math.floor(note / 8) % BASS.length] / SAMPLE_RATE;
    let leadPhase = 0;
    let bassPhase = (start * bassStep) % 1;
    let decay = 1;
    const end = Math.min(total, start + noteSamples);
    for (let i = start; i < end; i += 1) {
      const attack = min(1, (i - start) / attackSamples);
      const triangle = 4 * abs(leadPhase - 0.5) - 1;
      const lead = 0.6 * sin(2 * PI * leadPhase) + 0.4 * triangle;
      const bass = 0.5 * sin(2 * PI * bassPhase);
      samples[i] = round(9000 * (lead * attack * decay + 0.35 * bass));
      leadPhase = (leadPhase + leadStep) % 1;
      bassPhase = (bassPhase + bassStep) % 1;
      decay *= decayPerSample;
    }
  }

  return samples;
}

let coverPng: Buffer | null = null;

/**
 * Returns a 16x16 PNG cover image. The CDN URLs end in .jpeg like the upstream's, but a PNG
 * is served (with Content-Type image/png) because it can be built with zlib alone.
 */
export function coverImage(): Buffer {
  if (coverPng !== null) return coverPng;

  const size = 16;
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      row.set([40 + x * 12, 60 + y * 10, 160], 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  coverPng = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);

  return coverPng;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));

  return Buffer.concat([length, typeAndData, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;

  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);

  return (crc ^ 0xffffffff) >>> 0;
}
