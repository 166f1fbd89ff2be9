import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.dto';
import { AccountsResponseDto, CreditsResponseDto } from './account-response.dto';
import { ResilienceService } from '../resilience/resilience.service';
import { AccountView } from '../session/account';
import { AccountsService } from '../session/accounts.service';
import { CreditsService, CreditsView } from './credits.service';

@ApiTags('account')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1')
export class AccountController {
  constructor(
    private readonly credits: CreditsService,
    private readonly accounts: AccountsService,
    private readonly resilience: ResilienceService,
  ) {}

  @Get('credits')
  @ApiOperation({
    summary:
      'Credits of the pool (sum) and of each account: credits_left, period, monthly_limit, monthly_usage.',
  })
  @ApiResponse({ status: 200, type: CreditsResponseDto })
  getCredits(): Promise<CreditsView> {
    return this.credits.credits();
  }

  @Get('accounts')
  @ApiOperation({
    summary: 'State of each account: session, token expiry, credits, circuit breakers. No secrets.',
  })
  @ApiResponse({ status: 200, type: AccountsResponseDto })
  getAccounts(): {
    accounts: Array<AccountView & { circuit_breakers: unknown; running_generations: unknown }>;
  } {
    const breakers = this.resilience.breakers.snapshot();
    const bulkheads = this.resilience.bulkheads.snapshot();

    return {
      accounts: this.accounts.views().map((view) => ({
        ...view,
        circuit_breakers: breakers.filter((b) => b.accountId === view.id),
        running_generations: bulkheads.find((b) => b.accountId === view.id) ?? null,
      })),
    };
  }
}
