import { ApiProperty } from '@nestjs/swagger';

export class LyricsResponseDto {
  @ApiProperty({ description: 'Lyrics job id.' })
  id!: string;

  @ApiProperty({
    description: 'Job status as the upstream reports it: running, complete or error.',
  })
  status!: string;

  @ApiProperty({
    description: 'Suggested song title; null until complete.',
    nullable: true,
    type: String,
  })
  title!: string | null;

  @ApiProperty({
    description: 'The lyrics with section tags; null until complete.',
    nullable: true,
    type: String,
  })
  text!: string | null;

  @ApiProperty({
    description: 'Why the upstream failed the job; null unless status is error.',
    nullable: true,
    type: String,
  })
  error_message!: string | null;
}
