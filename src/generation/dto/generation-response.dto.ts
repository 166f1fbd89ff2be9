import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of a clip; the runtime shape is `Clip` in src/suno/clip.ts. */
export class ClipResponseDto {
  @ApiProperty({ description: 'Clip id (UUID) as the upstream assigned it.' })
  id!: string;

  @ApiProperty({
    description: 'Clip status.',
    enum: ['submitted', 'queued', 'streaming', 'complete', 'error'],
  })
  status!: string;

  @ApiProperty({ description: 'Song title.', nullable: true, type: String })
  title!: string | null;

  @ApiProperty({
    description: 'Final MP3; null until the clip is complete.',
    nullable: true,
    type: String,
  })
  audio_url!: string | null;

  @ApiProperty({
    description: 'Temporary stream that plays while the clip is streaming; null otherwise.',
    nullable: true,
    type: String,
  })
  stream_url!: string | null;

  @ApiProperty({ description: 'Cover image.', nullable: true, type: String })
  image_url!: string | null;

  @ApiProperty({ description: 'Video; null until complete.', nullable: true, type: String })
  video_url!: string | null;

  @ApiProperty({
    description: 'Duration in seconds; null until complete.',
    nullable: true,
    type: Number,
  })
  duration!: number | null;

  @ApiProperty({ description: 'Model that made the clip.', nullable: true, type: String })
  model!: string | null;

  @ApiProperty({ description: 'Style tags.', nullable: true, type: String })
  tags!: string | null;

  @ApiProperty({ description: 'Excluded styles.', nullable: true, type: String })
  negative_tags!: string | null;

  @ApiProperty({ description: 'Lyrics.', nullable: true, type: String })
  lyrics!: string | null;

  @ApiProperty({
    description: 'Description of a description-mode song.',
    nullable: true,
    type: String,
  })
  gpt_description_prompt!: string | null;

  @ApiProperty({
    description: 'Kind of clip: gen, concat, upload...',
    nullable: true,
    type: String,
  })
  type!: string | null;

  @ApiProperty({ description: 'Creation time (ISO 8601).', nullable: true, type: String })
  created_at!: string | null;

  @ApiProperty({
    description: 'Why the upstream failed the clip (e.g. moderation); null unless status is error.',
    nullable: true,
    type: String,
  })
  error_message!: string | null;

  @ApiProperty({
    description:
      'True when the lyrics carry the spoken warning that flagged accounts get; such audio is likely degraded.',
  })
  suspect_degraded!: boolean;
}

export class GenerationResponseDto {
  @ApiProperty({ description: 'Generation id (UUID) assigned by the gateway.' })
  id!: string;

  @ApiProperty({
    description: 'What was requested.',
    enum: ['custom', 'description', 'extend', 'concat'],
  })
  kind!: string;

  @ApiProperty({
    description:
      'Overall status: partial means some clips complete and some failed; unknown means a lost submit whose clips are still being looked for.',
    enum: [
      'submitted',
      'queued',
      'streaming',
      'complete',
      'partial',
      'error',
      'timeout',
      'unknown',
    ],
  })
  status!: string;

  @ApiProperty({ description: 'Id of the pool account that serves the generation.' })
  account!: string;

  @ApiProperty({ description: 'Submit time (ISO 8601).' })
  created_at!: string;

  @ApiProperty({
    description: 'Time the generation reached a final status (ISO 8601).',
    nullable: true,
    type: String,
  })
  finished_at!: string | null;

  @ApiProperty({
    description: 'The clips: two per generate, one per concat.',
    type: [ClipResponseDto],
  })
  clips!: ClipResponseDto[];
}

export class ClipsResponseDto {
  @ApiProperty({ description: 'Clips found, in the order asked for.', type: [ClipResponseDto] })
  clips!: ClipResponseDto[];

  @ApiProperty({ description: 'Requested ids the upstream does not know.', type: [String] })
  missing_ids!: string[];
}

export class AlignedWordDto {
  @ApiProperty({ description: 'The word.' })
  word!: string;

  @ApiProperty({ description: 'Start, in seconds from the start of the clip.' })
  start_s!: number;

  @ApiProperty({ description: 'End, in seconds from the start of the clip.' })
  end_s!: number;

  @ApiProperty({ description: 'Whether the aligner placed the word confidently.' })
  success!: boolean;

  @ApiPropertyOptional({ description: 'Alignment probability.', nullable: true, type: Number })
  p_align!: number | null;
}

export class AlignedLyricsResponseDto {
  @ApiProperty({ description: 'Clip id.' })
  clip_id!: string;

  @ApiProperty({
    description: 'Word timings; empty until the clip is complete.',
    type: [AlignedWordDto],
  })
  aligned_words!: AlignedWordDto[];
}
