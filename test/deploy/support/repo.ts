import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

/** Absolute path of the repository root. */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** Resolves a repository-relative path. */
export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}

export function readText(relativePath: string): string {
  return readFileSync(repoPath(relativePath), 'utf8');
}

export function readYaml<T = unknown>(relativePath: string): T {
  return parseYaml(readText(relativePath)) as T;
}

/** Parses a multi-document YAML stream, such as the output of `kubectl kustomize`. */
export function parseYamlStream<T = unknown>(text: string): T[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as T)
    .filter((value) => value !== null && value !== undefined);
}

/**
 * Paths that other engineers own and may still be writing. A COPY or mount that names one of
 * them passes even before the file exists.
 */
export const PATHS_OWNED_ELSEWHERE = [
  'src',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  '.swcrc',
  'test/emulator',
];

/** True when the path exists, or when another engineer owns it (see PATHS_OWNED_ELSEWHERE). */
export function existsOrOwnedElsewhere(relativePath: string): boolean {
  const normalized = relativePath.replace(/^\.\//, '').replace(/\/+$/, '');

  return existsSync(repoPath(normalized)) || PATHS_OWNED_ELSEWHERE.includes(normalized);
}

/** Anchor that GitHub gives a Markdown heading: lower case, punctuation removed, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** Anchors of every heading in a Markdown file. */
export function markdownAnchors(relativePath: string): Set<string> {
  const headings = readText(relativePath)
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#{1,6} /, ''));

  return new Set(headings.map(headingAnchor));
}
