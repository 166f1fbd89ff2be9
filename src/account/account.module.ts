import { Module } from '@nestjs/common';
import { ResilienceModule } from '../resilience/resilience.module';
import { SunoModule } from '../suno/suno.module';
import { AccountController } from './account.controller';
import { CreditsService } from './credits.service';

@Module({
  imports: [SunoModule, ResilienceModule],
  controllers: [AccountController],
  providers: [CreditsService],
  exports: [CreditsService],
})
export class AccountModule {}
