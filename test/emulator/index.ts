/**
 * Emulator of Suno's private upstream (the Clerk auth service and the studio API) for tests,
 * the demo and benchmarks. See the control API in server routes under `/__emulator/`.
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
