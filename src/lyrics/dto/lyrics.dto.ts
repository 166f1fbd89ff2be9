import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class CreateLyricsDto {
  @ApiProperty({
    description: 'What the lyrics should be about.',
    maxLength: 3000,
    example: 'a rainy night in a neon city',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(3000)
  prompt!: string;
}

export class LyricsIdParamDto {
  @ApiProperty({ description: 'Lyrics job id as returned by POST /v1/lyrics.', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  id!: string;
}
