/**
 * Runs the emulator as a process: `npm run emulator`. Reads EMULATOR_HOST, EMULATOR_PORT
 * (default 3100) and the other EMULATOR_* variables, prints one line with the URL, and stops
 * on SIGTERM or SIGINT. Set EMULATOR_QUIET=1 for benchmarks: each request is otherwise
 * logged to stdout.
 */
import { emulatorOptionsFromEnv } from './config';
import { startEmulator } from './server';

async function main(): Promise<void> {
  const emulator = await startEmulator(emulatorOptionsFromEnv(process.env));
  process.stdout.write(`suno emulator listening on ${emulator.url}\n`);

  const stop = (signal: NodeJS.Signals): void => {
    process.stdout.write(`suno emulator stopping on ${signal}\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('suno emulator: close failed:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(
    `suno emulator failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
