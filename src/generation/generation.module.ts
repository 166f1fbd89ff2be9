import { Module } from '@nestjs/common';
import { ResilienceModule } from '../resilience/resilience.module';
import { SunoModule } from '../suno/suno.module';
import { ClipWatcher } from './clip-watcher';
import { ClipsController } from './clips.controller';
import { ClipsService } from './clips.service';
import { GenerationService } from './generation.service';
import { GenerationStore } from './generation.store';
import { GenerationsController } from './generations.controller';
import { Reconciler } from './reconciler';
import { Submitter } from './submitter';

@Module({
  imports: [SunoModule, ResilienceModule],
  controllers: [GenerationsController, ClipsController],
  providers: [GenerationService, ClipsService, GenerationStore, ClipWatcher, Reconciler, Submitter],
  exports: [GenerationService, ClipsService, ClipWatcher],
})
export class GenerationModule {}
