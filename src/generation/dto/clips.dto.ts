import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsUUID } from 'class-validator';

export class ClipIdsQueryDto {
  @ApiProperty({
    description: 'Comma-separated clip ids (UUIDs), at most 50.',
    example: 'a1b2c3d4-0000-4000-8000-000000000001,a1b2c3d4-0000-4000-8000-000000000002',
    type: String,
  })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v.length > 0)
      : value,
  )
  @IsArray({ message: 'ids must be a comma-separated list' })
  @ArrayMinSize(1, { message: 'ids must name at least one clip' })
  @ArrayMaxSize(50, { message: 'ids may name at most 50 clips' })
  @IsUUID('all', { each: true, message: 'each id must be a UUID' })
  ids!: string[];
}
