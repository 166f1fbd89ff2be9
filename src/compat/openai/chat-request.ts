/** OpenAI-style error body, which OpenAI client libraries know how to read. */
export interface OpenAiError {
  error: {
    message: string;
    type: 'invalid_request_error' | 'api_error';
    param: string | null;
    code: string | null;
  };
}

export interface ChatRequest {
  model: string;
  prompt: string;
  stream: boolean;
}

const MAX_PROMPT = 3000;

export class ChatRequestError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }

  toBody(): OpenAiError {
    return {
      error: {
        message: this.message,
        type: 'invalid_request_error',
        param: this.param,
        code: null,
      },
    };
  }
}

/**
 * Reads a chat-completions body: the last user message becomes the song description.
 * Throws ChatRequestError naming the bad parameter.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ChatRequestError('body', 'The body must be a JSON object.');
  const record = body as Record<string, unknown>;
  if (!Array.isArray(record.messages) || record.messages.length === 0) {
    throw new ChatRequestError(
      'messages',
      'messages is required: a non-empty array of {role, content}.',
    );
  }
  const lastUser = [...record.messages]
    .reverse()
    .find((m: unknown) => (m as { role?: unknown })?.role === 'user') as
    { content?: unknown } | undefined;
  const content = typeof lastUser?.content === 'string' ? lastUser.content.trim() : '';
  if (!content)
    throw new ChatRequestError(
      'messages',
      'messages must contain a user message with text content.',
    );
  if ([...content].length > MAX_PROMPT)
    throw new ChatRequestError(
      'messages',
      `The user message is longer than ${MAX_PROMPT} characters.`,
    );
  if (record.stream !== undefined && typeof record.stream !== 'boolean')
    throw new ChatRequestError('stream', 'stream must be true or false.');
  if (record.model !== undefined && typeof record.model !== 'string')
    throw new ChatRequestError('model', 'model must be a string.');

  return {
    model: typeof record.model === 'string' ? record.model : 'suno',
    prompt: content,
    stream: record.stream === true,
  };
}
