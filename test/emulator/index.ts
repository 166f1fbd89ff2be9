/**
 * Emulator of Suno's private upstream (the Clerk auth service and the studio API) for tests,
 * the demo and benchmarks. Its control API under `/__emulator/` is served by control.ts.
 */
export { DEFAULT_ACCOUNT } from './accounts';
export {
  emulatorOptionsFromEnv,
  type EmulatorAccountInput,
  type EmulatorConfig,
  type EmulatorOptions,
} from './config';
export { mp3DurationSeconds } from './mp3';
export { startEmulator, type RunningEmulator } from './server';
export { EmulatorState, type Account, type EmulatorStats } from './state';
