/** `remove-seq SEQ...`: stop replicating sequences here (on the root: remove them from the set). */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import type { LondisteFlags } from './flags.js';
import { needNames } from './need-names.js';
import { readSeqs } from './node-tables.js';
import { resolveNames } from './object-names.js';

export const removeSeqCommand = {
  name: 'remove-seq',
  args: ['SEQ...'],
  summary: 'stop replicating sequences here (on the root: remove them from the set)',
  help: [
    'Usage: %TOOL% CONFIG remove-seq SEQ... [--dry-run]',
    '',
    '  --dry-run             print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, words: string[]) {
    const { session } = ctx;
    needNames('remove-seq', 'sequence', words);
    const local = await session.local();
    const info = await session.localInfo();
    const set = await readSeqs(local, session.queue);
    const seqs = resolveNames(session.out, words, {
      kind: 'sequence',
      available: set.filter((s) => s.local).map((s) => s.seqName),
      done: new Set(set.filter((s) => !s.local).map((s) => s.seqName)),
    });
    for (const seq of seqs) {
      await session.change(
        info.node_name as string,
        local,
        'select * from londiste.local_remove_seq($1, $2)',
        [session.queue, seq],
      );
    }
  },
};
