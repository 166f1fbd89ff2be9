/** Generated song text and its word timings, derived from the words of a prompt. */

export interface GeneratedLyrics {
  title: string;
  text: string;
}

export interface AlignedWord {
  word: string;
  start_s: number;
  end_s: number;
  success: boolean;
  p_align: number;
}

const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'the',
  'of',
  'in',
  'on',
  'to',
  'for',
  'with',
  'about',
  'song',
  'songs',
  'style',
  'like',
  'my',
  'your',
  'is',
  'are',
  'it',
  'this',
  'that',
  'at',
  'by',
  'from',
]);

const FALLBACK_WORDS = ['night', 'road', 'light', 'home'];

/** Returns up to `count` distinct content words of `prompt`, lower-cased, in order of appearance. */
export function keywords(prompt: string, count: number): string[] {
  const words = prompt.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const picked: string[] = [];
  for (const word of words) {
    if (word.length < 3 || STOP_WORDS.has(word) || picked.includes(word)) continue;
    picked.push(word);
    if (picked.length === count) break;
  }
  for (const word of FALLBACK_WORDS) {
    if (picked.length >= Math.min(count, 4)) break;
    if (!picked.includes(word)) picked.push(word);
  }

  return picked;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Writes two verses and a chorus around the prompt's words, with [Verse] and [Chorus] tags. */
export function generateLyrics(prompt: string): GeneratedLyrics {
  const [a, b, c, d] = keywords(prompt, 4);
  const title = `${capitalize(a)} ${capitalize(b)}`;
  const text = [
    '[Verse]',
    `Woke up to the ${a} outside my door`,
    `Carried the ${b} across the floor`,
    `Every ${c} I ever knew`,
    `Leads me back again to you`,
    '',
    '[Chorus]',
    `Oh ${a}, don't let go`,
    `Sing it loud and sing it slow`,
    `${capitalize(d)} and ${b} in the evening glow`,
    '',
    '[Verse 2]',
    `Counting ${c} along the way`,
    `Holding on to ${d} today`,
  ].join('\n');

  return { title, text };
}

/** Words of the lyrics without section tags such as [Chorus]. */
export function lyricWords(lyrics: string): string[] {
  return lyrics
    .replace(/\[[^\]]*\]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '');
}

/**
 * Spreads the words evenly over the song, each sung for 90% of its slot. The last 5% of the
 * song is left without words, like an outro.
 */
export function alignWords(lyrics: string, durationS: number): AlignedWord[] {
  const words = lyricWords(lyrics);
  if (words.length === 0) return [];

  const slot = (durationS * 0.95) / words.length;

  return words.map((word, i) => ({
    word,
    start_s: round3(i * slot),
    end_s: round3(i * slot + slot * 0.9),
    success: true,
    // A fixed pseudo-random confidence between 0.80 and 0.99.
    p_align: round3(0.8 + ((i * 37) % 20) / 100),
  }));
}

/** Returns `points` amplitude values in [0, 1] that follow the melody's note envelope. */
export function waveform(points: number): number[] {
  return Array.from({ length: points }, (_, i) => round3(0.3 + 0.6 * Math.exp(-((i % 8) / 3))));
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
