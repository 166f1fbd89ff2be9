import { Injectable } from '@nestjs/common';

/** Whether this replica is shutting down; readiness reads it, the shutdown sequence sets it. */
@Injectable()
export class ShutdownState {
  private startedAt?: Date;

  begin(): void {
    this.startedAt ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.startedAt !== undefined;
  }

  get since(): Date | undefined {
    return this.startedAt;
  }
}
