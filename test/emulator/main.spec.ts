import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Starts `main.ts` the way `npm run emulator` does and resolves with the printed URL. */
function startProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/emulator/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`emulator exited with ${code}: ${output}`));
    });
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('main.ts', () => {
  it('serves on the env port and stops on SIGTERM', async () => {
    const { child, url, output } = await startProcess({
      EMULATOR_HOST: '127.0.0.1',
      EMULATOR_PORT: '0',
      EMULATOR_QUIET: '1',
      EMULATOR_GENERATION_S: '7',
      EMULATOR_CLIP_DURATION_S: '1',
    });
    try {
      const config = (await (await fetch(`${url}/__emulator/config`)).json()) as Record<
        string,
        unknown
      >;
      expect(config.generation_s).toBe(7);

      const exited = exitCode(child);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output()).toContain('stopping on SIGTERM');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 20_000);

  it('exits with a message for an invalid environment', async () => {
    await expect(startProcess({ EMULATOR_PORT: 'abc' })).rejects.toThrow(/EMULATOR_PORT="abc"/);
  }, 20_000);
});
