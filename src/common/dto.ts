import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';

/** Turns the query strings "true"/"false"/"1"/"0" into booleans; anything else stays invalid. */
export const ToBoolean = () =>
  Transform(({ value }: { value: unknown }) => {
    if (value === 'true' || value === '1' || value === true) return true;
    if (value === 'false' || value === '0' || value === false) return false;

    return value;
  });

/** Turns a numeric query string into a number; anything else stays invalid. */
export const ToNumber = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value));

export class IdParamDto {
  @ApiProperty({ description: 'Identifier (UUID).', format: 'uuid', example: '3f0c8a52-6a9f-4a0c-9bb0-2d9f3c1e7a10' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}
