import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  MaxLength,
  Min,
} from 'class-validator';
import { MODELS } from '../generation/model-limits';

/** Body of the original Suno-API's POST /generate (custom mode). */
export class CompatCustomGenerateDto {
  @ApiProperty({ description: 'Lyrics.', maxLength: 5000 })
  @IsString()
  @MaxLength(5000)
  prompt!: string;

  @ApiPropertyOptional({ description: 'Model key.', enum: MODELS, default: 'chirp-v3-5' })
  @IsOptional()
  @IsIn(MODELS)
  mv?: string;

  @ApiPropertyOptional({ description: 'Song title.', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  title?: string;

  @ApiPropertyOptional({ description: 'Style tags.', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  tags?: string;

  @ApiPropertyOptional({ description: 'Continue from this second of continue_clip_id.' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  continue_at?: number;

  @ApiPropertyOptional({ description: 'Clip to continue (extend).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  continue_clip_id?: string;

  @ApiPropertyOptional({
    description: 'Accepted for compatibility and ignored: the gateway picks the account.',
  })
  @IsOptional()
  session_id?: unknown;
}

/** Body of the original Suno-API's POST /generate/description-mode. */
export class CompatDescriptionGenerateDto {
  @ApiProperty({ description: 'Song description.', maxLength: 3000 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(3000)
  gpt_description_prompt!: string;

  @ApiPropertyOptional({ description: 'Generate without vocals.', default: false })
  @IsOptional()
  @IsBoolean()
  make_instrumental?: boolean;

  @ApiPropertyOptional({ description: 'Model key.', enum: MODELS, default: 'chirp-v3-5' })
  @IsOptional()
  @IsIn(MODELS)
  mv?: string;

  @ApiPropertyOptional({ description: 'Placeholder kept for compatibility; must be empty.' })
  @IsOptional()
  @IsString()
  @MaxLength(0)
  prompt?: string;

  @ApiPropertyOptional({ description: 'Accepted for compatibility and ignored.' })
  @IsOptional()
  session_id?: unknown;
}

export class CompatLyricsDto {
  @ApiProperty({ description: 'What the lyrics should be about.', maxLength: 3000 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(3000)
  prompt!: string;
}

export class CompatIdsParamDto {
  @ApiProperty({ description: 'Comma-separated clip ids.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  ids!: string;
}

export class CompatSessionQueryDto {
  @ApiPropertyOptional({ description: 'Accepted for compatibility and ignored.' })
  @IsOptional()
  session_id?: string;
}
