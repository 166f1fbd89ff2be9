import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** OpenAPI description of the application/problem+json error body. */
export class ProblemDto {
  @ApiProperty({
    description: 'URN naming the kind of problem.',
    example: 'urn:suno-gateway:problem:insufficient-credits',
  })
  type!: string;

  @ApiProperty({ description: 'HTTP reason phrase.', example: 'Payment Required' })
  title!: string;

  @ApiProperty({ description: 'HTTP status code.', example: 402 })
  status!: number;

  @ApiProperty({ description: 'What went wrong and what to do next.' })
  detail!: string;

  @ApiProperty({
    description: 'Stable machine code; clients branch on it.',
    example: 'INSUFFICIENT_CREDITS',
  })
  code!: string;

  @ApiProperty({ description: 'Id of the request; quote it when reporting a problem.' })
  request_id!: string;

  @ApiPropertyOptional({
    description: 'Seconds to wait before retrying; also sent as Retry-After.',
  })
  retry_after?: number;

  @ApiPropertyOptional({ description: 'HTTP status the upstream returned.' })
  upstream_status?: number;

  @ApiPropertyOptional({
    description: 'Invalid fields: [{field, message}].',
    type: 'array',
    items: { type: 'object' },
  })
  errors?: unknown[];

  @ApiPropertyOptional({
    description: 'Generation to query later, when a create timed out after reaching the upstream.',
  })
  generation_id?: string;
}

/** Documents the problem+json responses every upstream-backed route can give. */
export const ApiProblems = () =>
  applyDecorators(
    ApiResponse({
      status: 400,
      description: 'VALIDATION_FAILED or UPSTREAM_REJECTED.',
      type: ProblemDto,
    }),
    ApiResponse({
      status: 401,
      description: 'UNAUTHORIZED: missing or wrong API key.',
      type: ProblemDto,
    }),
    ApiResponse({ status: 429, description: 'RATE_LIMITED; see Retry-After.', type: ProblemDto }),
    ApiResponse({
      status: 502,
      description: 'UPSTREAM_ERROR or UPSTREAM_BAD_RESPONSE.',
      type: ProblemDto,
    }),
    ApiResponse({
      status: 503,
      description: 'UPSTREAM_UNAVAILABLE, CIRCUIT_OPEN or an account problem; see Retry-After.',
      type: ProblemDto,
    }),
    ApiResponse({ status: 504, description: 'UPSTREAM_TIMEOUT.', type: ProblemDto }),
  );
