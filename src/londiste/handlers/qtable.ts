/**
 * `qtable`: a queue table on the root. Its trigger is a BEFORE INSERT trigger with SKIP, so
 * an INSERT makes an event and stores no row; the table is registered with `expect_sync`
 * (nothing to copy). On a replica its events are not applied (a handler of the replica's
 * own, e.g. `qsplitter` or `applyfn`, does something with them).
 */
import type { HandlerFactory, TableHandler } from '../handler.js';

export class QueueTableHandler implements TableHandler {
  addTriggerArgs(args: string[]): string[] {
    return [...args, 'tgflags=BI', 'SKIP', 'expect_sync'];
  }

  needsTable(): boolean {
    return false;
  }

  processEvent(): void {}

  async flush(): Promise<void> {}

  copyCondition(): string | null {
    return null;
  }

  async copy() {
    return { rows: 0, bytes: 0 };
  }
}

export const qtableHandler: HandlerFactory = {
  name: 'qtable',
  description:
    'Queue table: inserts into the table become events, the table stays empty.\n' +
    'The trigger is BEFORE INSERT with SKIP (only inserts make events, no row is stored),\n' +
    'the table is added with expect_sync (no copy). A replica applies none of its events.',
  args: [],
  create: () => new QueueTableHandler(),
};
