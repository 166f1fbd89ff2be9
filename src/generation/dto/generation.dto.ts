import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { WaitBudgetQueryDto } from '../../common/dto';
import { MODELS } from '../model-limits';

export class CreateGenerationDto {
  @ApiPropertyOptional({
    description:
      'Lyrics (custom mode). Use section tags such as [Verse] and [Chorus]. Limit depends on the model: 3000 code points for v3.x/v4, 5000 for later.',
    maxLength: 5000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  prompt?: string;

  @ApiPropertyOptional({ description: 'Song title (custom mode).', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  title?: string;

  @ApiPropertyOptional({
    description: 'Style tags, e.g. "synthwave, female vocals" (custom mode).',
    maxLength: 1000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  tags?: string;

  @ApiPropertyOptional({ description: 'Styles to avoid (custom mode).', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  negative_tags?: string;

  @ApiPropertyOptional({
    description:
      'Description mode: a description of the song; Suno writes the lyrics. When set, prompt/title/tags are ignored.',
    maxLength: 3000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(3000)
  gpt_description_prompt?: string;

  @ApiPropertyOptional({ description: 'Model key.', enum: MODELS, default: 'chirp-crow' })
  @IsOptional()
  @IsIn(MODELS)
  mv?: string;

  @ApiPropertyOptional({ description: 'Generate without vocals.', default: false })
  @IsOptional()
  @IsBoolean()
  make_instrumental?: boolean;

  @ApiPropertyOptional({
    description: 'A solved captcha token (hCaptcha or Turnstile) when the upstream demands one.',
    maxLength: 10000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  captcha_token?: string;
}

export class ExtendClipDto {
  @ApiProperty({
    description: 'Second of the source clip from which the extension continues.',
    minimum: 0,
    maximum: 1200,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1200)
  continue_at!: number;

  @ApiPropertyOptional({ description: 'Lyrics of the extension.', maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  prompt?: string;

  @ApiPropertyOptional({ description: 'Style tags of the extension.', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  tags?: string;

  @ApiPropertyOptional({ description: 'Styles to avoid.', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  negative_tags?: string;

  @ApiPropertyOptional({ description: 'Title of the extension.', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  title?: string;

  @ApiPropertyOptional({ description: 'Model key; should match the source clip.', enum: MODELS })
  @IsOptional()
  @IsIn(MODELS)
  mv?: string;

  @ApiPropertyOptional({
    description: 'A solved captcha token when the upstream demands one.',
    maxLength: 10000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  captcha_token?: string;
}

/** Wait options of generation routes: the shared budget plus what to wait for. */
export class WaitQueryDto extends WaitBudgetQueryDto {
  @ApiPropertyOptional({
    description: 'What to wait for: every clip streaming (playable early) or complete.',
    enum: ['streaming', 'complete'],
    default: 'complete',
  })
  @IsOptional()
  @IsIn(['streaming', 'complete'])
  wait_for?: 'streaming' | 'complete';
}
