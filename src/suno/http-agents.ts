import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

export interface AgentSettings {
  maxSockets: number;
  maxSocketsPerHost: number;
  freeSocketTimeoutMs: number;
  connectTimeoutMs: number;
}

/** Error code used when a TCP/TLS connection is not established within the connect timeout. */
export const CONNECT_TIMEOUT_CODE = 'ECONNECT_TIMEOUT';

type Connect = (
  options: object,
  callback?: (err: Error | null, socket: Duplex) => void,
) => Duplex | null | undefined;

/**
 * Wraps an agent's createConnection so that a connection not made within `timeoutMs` fails
 * with a connect error. The whole-request timeout is separate and longer: a slow generate
 * must not be cut, but a dead host should fail fast and count as "never sent".
 */
function withConnectTimeout<A extends http.Agent>(
  agent: A,
  timeoutMs: number,
  readyEvent: string,
): A {
  const original = (agent as unknown as { createConnection: Connect }).createConnection.bind(agent);
  (agent as unknown as { createConnection: Connect }).createConnection = (options, callback) => {
    const socket = original(options, callback);
    if (!socket || !(socket as unknown as { connecting?: boolean }).connecting) return socket;
    const timer = setTimeout(() => {
      socket.destroy(
        Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), {
          code: CONNECT_TIMEOUT_CODE,
        }),
      );
    }, timeoutMs);
    timer.unref();
    socket.once(readyEvent, () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));

    return socket;
  };

  return agent;
}

export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
  destroy(): void;
}

/** Keep-alive agents shared by every account's calls to both upstream hosts. */
export function createUpstreamAgents(settings: AgentSettings): UpstreamAgents {
  const common = {
    keepAlive: true,
    maxSockets: settings.maxSocketsPerHost,
    maxTotalSockets: settings.maxSockets,
    maxFreeSockets: Math.min(settings.maxSocketsPerHost, 256),
    timeout: settings.freeSocketTimeoutMs,
    scheduling: 'lifo' as const,
  };
  const httpAgent = withConnectTimeout(
    new http.Agent(common),
    settings.connectTimeoutMs,
    'connect',
  );
  const httpsAgent = withConnectTimeout(
    new https.Agent(common),
    settings.connectTimeoutMs,
    'secureConnect',
  );

  return {
    http: httpAgent,
    https: httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
