import { Agent, request } from 'node:http';

/** The fields of the gateway's generation body that the harness reads. */
interface GenerationBody {
  status?: string;
  clips?: { created_at?: string | null }[];
}

/** One `POST /v1/generations?wait=true` as the harness saw it. */
export interface SongAnswer {
  sentAtMs: number;
  /** When the whole response body had arrived; null when none did. */
  answeredAtMs: number | null;
  /** HTTP status, or null after a network error or timeout. */
  status: number | null;
  generationStatus: string | null;
  /** Latest `created_at` of the generation's clips, in epoch ms; null when absent. */
  createdAtMs: number | null;
  error: string | null;
}

/** Maximum wait the gateway allows by default (WAIT_MAX_BUDGET_MS = 55 s). */
export const WAIT_TIMEOUT_S = 55;
// The client gives up this long after the wait budget, so a stuck gateway cannot stall the bench.
const CLIENT_SLACK_MS = 30_000;

/**
 * Sends `count` generation requests at once, each on its own connection, and resolves when
 * every one has a response, failed or timed out.
 */
export async function submitSongs(input: {
  baseUrl: string;
  apiKey: string;
  count: number;
  label: string;
}): Promise<SongAnswer[]> {
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  try {
    const requests = Array.from({ length: input.count }, (_, index) =>
      submitOne({ ...input, agent, title: `bench ${input.label} song ${index + 1}` }),
    );

    return await Promise.all(requests);
  } finally {
    agent.destroy();
  }
}

function submitOne(input: {
  baseUrl: string;
  apiKey: string;
  agent: Agent;
  title: string;
}): Promise<SongAnswer> {
  const body = JSON.stringify({
    prompt:
      '[Verse]\nCounting lights along the benchmark road\n[Chorus]\nEvery song arrives on time',
    title: input.title,
    tags: 'synthwave, steady beat',
  });
  const url = new URL(`/v1/generations?wait=true&timeout_s=${WAIT_TIMEOUT_S}`, input.baseUrl);
  const answer: SongAnswer = {
    sentAtMs: Date.now(),
    answeredAtMs: null,
    status: null,
    generationStatus: null,
    createdAtMs: null,
    error: null,
  };

  return new Promise((resolve) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent: input.agent,
        headers: {
          authorization: `Bearer ${input.apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          answer.answeredAtMs = Date.now();
          answer.status = response.statusCode ?? null;
          readGeneration(answer, Buffer.concat(chunks).toString('utf8'));
          resolve(answer);
        });
        response.on('error', (error) => resolve({ ...answer, error: error.message }));
      },
    );
    outgoing.setTimeout(WAIT_TIMEOUT_S * 1000 + CLIENT_SLACK_MS, () =>
      outgoing.destroy(new Error('timed out')),
    );
    outgoing.on('error', (error) => resolve({ ...answer, error: error.message }));
    outgoing.end(body);
  });
}

function readGeneration(answer: SongAnswer, text: string): void {
  try {
    const parsed = JSON.parse(text) as GenerationBody;
    answer.generationStatus = typeof parsed.status === 'string' ? parsed.status : null;
    const created = (parsed.clips ?? [])
      .map((clip) => Date.parse(clip.created_at ?? ''))
      .filter(Number.isFinite);
    answer.createdAtMs = created.length > 0 ? Math.max(...created) : null;
  } catch {
    answer.error = `response body is not JSON: ${text.slice(0, 200)}`;
  }
}
