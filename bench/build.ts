import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const BUILD_TIMEOUT_MS = 300_000;

/**
 * Makes sure dist/main.js exists, running `npm run build` when it does not; throws when the
 * build fails. Returns a warning when a source file is newer than the build, because then
 * the figures describe older code.
 */
export function ensureBuild(root: string, log: (message: string) => void): string[] {
  const entry = join(root, 'dist', 'main.js');
  if (!existsSync(entry)) {
    log('dist/main.js not found; running npm run build');
    // Build output goes to stderr, so stdout keeps only the result tables.
    const build = spawnSync('npm', ['run', 'build'], {
      cwd: root,
      stdio: ['ignore', 2, 2],
      timeout: BUILD_TIMEOUT_MS,
    });
    if (build.status !== 0 || !existsSync(entry)) {
      const reason = build.error
        ? build.error.message
        : `exit code ${build.status ?? build.signal}`;
      throw new Error(
        `npm run build failed (${reason}), so there is no dist/main.js to benchmark; fix the errors above and run the bench again`,
      );
    }
  }

  const newest = newestSource(join(root, 'src'));
  if (newest !== null && newest.mtimeMs > statSync(entry).mtimeMs) {
    return [
      `dist/main.js is older than ${relative(root, newest.path)}: these figures describe the previous build; run npm run build first for current code`,
    ];
  }

  return [];
}

function newestSource(dir: string): { path: string; mtimeMs: number } | null {
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory()
      ? newestSource(path)
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
        ? { path, mtimeMs: statSync(path).mtimeMs }
        : null;
    if (candidate !== null && (newest === null || candidate.mtimeMs > newest.mtimeMs))
      newest = candidate;
  }

  return newest;
}
