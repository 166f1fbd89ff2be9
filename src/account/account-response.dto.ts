import { ApiProperty } from '@nestjs/swagger';
import { ACCOUNT_STATES } from '../session/account';

export class BillingDto {
  @ApiProperty({
    description: 'Credits left (total_credits_left upstream).',
    nullable: true,
    type: Number,
  })
  credits_left!: number | null;

  @ApiProperty({
    description: 'Billing period, e.g. month; null on free plans.',
    nullable: true,
    type: String,
  })
  period!: string | null;

  @ApiProperty({ description: 'Credits per period.', nullable: true, type: Number })
  monthly_limit!: number | null;

  @ApiProperty({ description: 'Credits used this period.', nullable: true, type: Number })
  monthly_usage!: number | null;
}

export class AccountCreditsDto extends BillingDto {
  @ApiProperty({ description: 'Account id.' })
  id!: string;
}

export class CreditsResponseDto extends BillingDto {
  @ApiProperty({
    description: 'Each account whose billing could be read.',
    type: [AccountCreditsDto],
  })
  accounts!: AccountCreditsDto[];
}

export class AccountResponseDto {
  @ApiProperty({ description: 'Account id.' })
  id!: string;

  @ApiProperty({
    description: 'Account state.',
    enum: ACCOUNT_STATES,
  })
  state!: string;

  @ApiProperty({ description: 'Why the account is in that state.' })
  state_reason!: string;

  @ApiProperty({ description: 'When the state last changed (ISO 8601).' })
  state_changed_at!: string;

  @ApiProperty({ description: 'Whether new requests may use the account.' })
  usable!: boolean;

  @ApiProperty({ description: 'Whether the Clerk session id is known.' })
  session_id_known!: boolean;

  @ApiProperty({
    description: 'Expiry of the current session JWT (ISO 8601).',
    nullable: true,
    type: String,
  })
  token_expires_at!: string | null;

  @ApiProperty({
    description: 'Age of the current session JWT in seconds.',
    nullable: true,
    type: Number,
  })
  token_age_s!: number | null;

  @ApiProperty({
    description: 'Last successful token refresh (ISO 8601).',
    nullable: true,
    type: String,
  })
  last_refresh_at!: string | null;

  @ApiProperty({
    description: 'Message of the last failed refresh, without secrets.',
    nullable: true,
    type: String,
  })
  last_refresh_error!: string | null;

  @ApiProperty({
    description: 'Credits left as last read from billing.',
    nullable: true,
    type: Number,
  })
  credits_left!: number | null;

  @ApiProperty({
    description: 'Circuit breakers of the account, one per upstream (clerk, studio).',
    type: 'array',
    items: { type: 'object' },
  })
  circuit_breakers!: unknown[];

  @ApiProperty({
    description: 'Running generations and queue of the account bulkhead.',
    nullable: true,
    type: 'object',
    additionalProperties: true,
  })
  running_generations!: unknown;
}

export class AccountsResponseDto {
  @ApiProperty({ description: 'Every configured account.', type: [AccountResponseDto] })
  accounts!: AccountResponseDto[];
}
