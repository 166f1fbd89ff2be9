import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ToBoolean, ToNumber } from '../../common/dto';

export class CreateLyricsDto {
  @ApiProperty({ description: 'What the lyrics should be about.', maxLength: 3000, example: 'a rainy night in a neon city' })
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

export class LyricsWaitQueryDto {
  @ApiPropertyOptional({ description: 'Wait until the lyrics are complete, within the wait budget.', default: false })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'wait must be true or false' })
  wait?: boolean;

  @ApiPropertyOptional({ description: 'Wait budget in seconds, capped by WAIT_MAX_BUDGET_MS.', minimum: 0, maximum: 600 })
  @IsOptional()
  @ToNumber()
  @IsNumber({}, { message: 'timeout_s must be a number of seconds' })
  @Min(0)
  @Max(600)
  timeout_s?: number;
}
