import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { toAppError } from '../../common/problem.filter';
import { GenerationView } from '../../generation/generation';
import { GenerationService } from '../../generation/generation.service';
import { ChatRequest, ChatRequestError, parseChatRequest } from './chat-request';

/** Interval of SSE comment lines that keep proxies from closing a stream during a long wait. */
const KEEP_ALIVE_MS = 5_000;

/**
 * OpenAI-compatible chat completions: the last user message is a song description; the
 * response lists the songs. Errors use OpenAI's error shape because its clients expect it.
 */
@ApiTags('compat')
@ApiBearerAuth()
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(private readonly generations: GenerationService) {}

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'OpenAI-compatible: {model, messages, stream}; makes songs from the last user message.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['messages'],
      properties: {
        model: { type: 'string' },
        stream: { type: 'boolean' },
        messages: { type: 'array', items: { type: 'object' } },
      },
    },
  })
  async complete(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    let request: ChatRequest;
    try {
      request = parseChatRequest(body);
    } catch (err) {
      if (!(err instanceof ChatRequestError)) throw err;
      await reply.status(400).send(err.toBody());

      return;
    }
    if (request.stream) return this.stream(request, reply);
    try {
      const generation = await this.generate(request);
      await reply.status(200).send(completion(request, generation));
    } catch (err) {
      const error = toAppError(err);
      if (error.retryAfterS !== undefined)
        void reply.header('retry-after', String(error.retryAfterS));
      await reply.status(error.status).send({
        error: {
          message: error.message,
          type: error.status < 500 ? 'invalid_request_error' : 'api_error',
          param: null,
          code: error.code,
        },
      });
    }
  }

  private generate(request: ChatRequest): Promise<GenerationView> {
    return this.generations
      .create({ gpt_description_prompt: request.prompt }, { wait: true })
      .then((answer) => answer.body);
  }

  private async stream(request: ChatRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': String(reply.getHeader('x-request-id') ?? ''),
    });
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    const id = `chatcmpl-${randomUUID()}`;
    try {
      const generation = await this.generate(request);
      raw.write(
        `data: ${JSON.stringify(chunk(id, request, { role: 'assistant', content: describe(generation) }, null))}\n\n`,
      );
      raw.write(`data: ${JSON.stringify(chunk(id, request, {}, 'stop'))}\n\n`);
    } catch (err) {
      const error = toAppError(err);
      raw.write(
        `data: ${JSON.stringify({ error: { message: error.message, type: 'api_error', param: null, code: error.code } })}\n\n`,
      );
    } finally {
      clearInterval(keepAlive);
      raw.end('data: [DONE]\n\n');
    }
  }
}

function describe(generation: GenerationView): string {
  const lines = generation.clips.map((clip, i) => {
    const audio = clip.audio_url ?? clip.stream_url;
    const link = audio ? `[listen](${audio})` : `status ${clip.status}`;

    return `${i + 1}. ${clip.title ?? 'Untitled'}: ${link}${clip.lyrics ? `\n\n${clip.lyrics}` : ''}`;
  });

  return `Generation ${generation.id} is ${generation.status}.\n\n${lines.join('\n\n')}`;
}

function completion(request: ChatRequest, generation: GenerationView) {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: describe(generation) },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

function chunk(id: string, request: ChatRequest, delta: object, finishReason: 'stop' | null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}
