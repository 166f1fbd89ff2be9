#!/usr/bin/env node
/*
 * Starts the Suno emulator on 127.0.0.1:3100 and the gateway on 127.0.0.1:3000, configured
 * against it with the API key `demo-key`, then prints curl commands to try. EMULATOR_* and
 * gateway variables in the environment override the demo defaults.
 */
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const register = ['-r', '@swc-node/register'];
const emulatorPort = process.env.EMULATOR_PORT ?? '3100';
const gatewayPort = process.env.PORT ?? '3000';
const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

function demoCookie() {
  require('@swc-node/register');
  return require(path.join(root, 'test/emulator/accounts')).DEFAULT_ACCOUNT.cookie;
}

const emulatorEnv = {
  EMULATOR_HOST: '127.0.0.1',
  EMULATOR_PORT: emulatorPort,
  EMULATOR_GENERATION_S: '12',
  ...process.env,
};
const gatewayEnv = {
  HOST: '127.0.0.1',
  API_KEYS: 'demo-key',
  SUNO_BASE_URL: emulatorUrl,
  SUNO_AUTH_URL: emulatorUrl,
  SUNO_COOKIE: demoCookie(),
  POLL_INTERVAL_MS: '1000',
  WAIT_BUDGET_MS: '40000',
  LOG_LEVEL: 'info',
  // Nothing routes to the demo, so there is no load balancer to drain from on Ctrl+C.
  SHUTDOWN_DRAIN_MS: '0',
  ...process.env,
  PORT: gatewayPort,
};

const children = [];
function start(name, args, env) {
  const child = spawn(process.execPath, [...register, ...args], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the demo\n`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitForReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

async function main() {
  start('emulator', ['test/emulator/main.ts'], emulatorEnv);
  start('gateway', ['src/main.ts'], gatewayEnv);
  await waitForReady(`${gatewayUrl}/health/ready`, 60_000);
  const key = gatewayEnv.API_KEYS.split(',')[0].split(':').pop();
  process.stdout.write(`
suno-gateway demo is running: gateway ${gatewayUrl} (API key ${key}), emulator ${emulatorUrl}
Swagger UI: ${gatewayUrl}/docs   metrics: ${gatewayUrl}/metrics

Create a song and wait for it (about 10-20 s):
  curl -s -X POST '${gatewayUrl}/v1/generations?wait=true' \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"prompt":"[Verse]\\nNeon rain on the window","title":"Neon Rain","tags":"synthwave, dreamy"}'

Download the first clip's MP3 (needs jq):
  curl -s -o song.mp3 "$(curl -s -X POST '${gatewayUrl}/v1/generations?wait=true' -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{"gpt_description_prompt":"a calm piano piece"}' | jq -r '.clips[0].audio_url')"

Credits and accounts:
  curl -s ${gatewayUrl}/v1/credits -H 'Authorization: Bearer ${key}'
  curl -s ${gatewayUrl}/v1/accounts -H 'Authorization: Bearer ${key}'

Press Ctrl+C to stop.
`);
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  stop(1);
});
