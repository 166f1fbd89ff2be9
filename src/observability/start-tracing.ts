/**
 * Starts tracing as a side effect of being imported. `main.ts` imports it first: compilers
 * hoist imports above other statements, so a `startTracing()` call in `main.ts` itself would
 * run only after Nest and its HTTP stack had loaded.
 */
import { startTracing } from './tracing';

try {
  startTracing();
} catch (err) {
  process.stderr.write(`Invalid tracing configuration: ${(err as Error).message}\n`);
  process.exit(1);
}
