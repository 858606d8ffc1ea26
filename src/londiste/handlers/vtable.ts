/**
 * `vtable` (alias `fake_local`): the table is marked local on this node without a physical
 * table (`virtual_table`: no structure check, no triggers, no copy; state ok at once), and
 * its events are ignored. A node can so take part in a set whose table lives elsewhere, e.g.
 * a branch that only passes the table's events on.
 */
import type { Event } from '../../pgq/event.js';
import type { ApplyContext, HandlerFactory, TableHandler } from '../handler.js';

/** A handler that keeps nothing: the base of the handlers without a table here. */
export class VirtualTableHandler implements TableHandler {
  addTriggerArgs(args: string[]): string[] {
    return args.includes('virtual_table') ? args : [...args, 'virtual_table'];
  }

  needsTable(): boolean {
    return false;
  }

  processEvent(_ctx: ApplyContext, _event: Event): void | Promise<void> {}

  async flush(_ctx: ApplyContext): Promise<void> {}

  copyCondition(): string | null {
    return null;
  }

  async copy() {
    return { rows: 0, bytes: 0 };
  }
}

const description =
  'Virtual table: marked local here without a table, its events ignored.\n' +
  'add-table registers it with virtual_table: no table is needed, no trigger is made and\n' +
  'nothing is copied; the worker ignores the events of the table.';

export const vtableHandler: HandlerFactory = {
  name: 'vtable',
  description,
  args: [],
  create: () => new VirtualTableHandler(),
};

export const fakeLocalHandler: HandlerFactory = {
  name: 'fake_local',
  description: `${description}\nThe same handler as vtable (its older name).`,
  args: [],
  create: () => new VirtualTableHandler(),
};
