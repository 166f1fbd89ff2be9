import { Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module';
import { GenerationModule } from '../generation/generation.module';
import { LyricsModule } from '../lyrics/lyrics.module';
import { SunoModule } from '../suno/suno.module';
import { CompatController } from './compat.controller';
import { ChatCompletionsController } from './openai/chat-completions.controller';

@Module({
  imports: [GenerationModule, LyricsModule, SunoModule, AccountModule],
  controllers: [CompatController, ChatCompletionsController],
})
export class CompatModule {}
