import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsNumber, IsOptional, IsUUID, Max, Min } from 'class-validator';

/** Turns the query strings "true"/"false"/"1"/"0" into booleans; anything else stays invalid. */
export const ToBoolean = () =>
  Transform(({ value }: { value: unknown }) => {
    if (value === 'true' || value === '1' || value === true) return true;
    if (value === 'false' || value === '0' || value === false) return false;

    return value;
  });

/** Turns a numeric query string into a number; anything else stays invalid. */
export const ToNumber = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value,
  );

export class IdParamDto {
  @ApiProperty({
    description: 'Identifier (UUID).',
    format: 'uuid',
    example: '3f0c8a52-6a9f-4a0c-9bb0-2d9f3c1e7a10',
  })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

/** `wait` and `timeout_s` of the routes that can long-poll. */
export class WaitBudgetQueryDto {
  @ApiPropertyOptional({
    description:
      'Wait for the result within a bounded budget; when the budget ends first, the current state is returned.',
    default: false,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'wait must be true or false' })
  wait?: boolean;

  @ApiPropertyOptional({
    description: 'Wait budget in seconds, capped by WAIT_MAX_BUDGET_MS.',
    minimum: 0,
    maximum: 600,
  })
  @IsOptional()
  @ToNumber()
  @IsNumber({}, { message: 'timeout_s must be a number of seconds' })
  @Min(0)
  @Max(600)
  timeout_s?: number;
}
