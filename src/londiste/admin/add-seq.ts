/**
 * `add-seq SEQ...`: replicate sequences. On the root a sequence joins the set and its
 * position is published at once; elsewhere it must be in the set, and it is moved forward
 * to the last published value. `--create` makes a missing local sequence.
 */
import type { CommandContext } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import { splitFqname } from '../table-names.js';
import type { LondisteFlags } from './flags.js';
import { needNames } from './need-names.js';
import { localRelations, readSeqs, relationFacts } from './node-tables.js';
import { resolveNames } from './object-names.js';
import { createSequenceStatements, runCreate } from './table-create.js';

export const addSeqCommand = {
  name: 'add-seq',
  args: ['SEQ...'],
  summary: 'replicate sequences into the local node',
  help: [
    'Usage: %TOOL% CONFIG add-seq SEQ... [--create] [--all]',
    '',
    '  --all                 every sequence not yet added',
    '  --create              create a missing local sequence',
    '  --dry-run             print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, words: string[]) {
    const { session, flags } = ctx;
    if (!flags.all) needNames('add-seq', 'sequence', words);
    const local = await session.local();
    const info = await session.localInfo();
    const nodeName = info.node_name as string;
    const set = await readSeqs(local, session.queue);
    const available = set.map((s) => s.seqName);
    if (info.node_type === 'root') available.push(...(await localRelations(local, 'S')));
    const seqs = resolveNames(session.out, words, {
      kind: 'sequence',
      available: [...new Set(available)],
      done: new Set(set.filter((s) => s.local).map((s) => s.seqName)),
      all: flags.all,
      force: flags.force,
    });
    const toCreate = new Set<string>();
    for (const seq of seqs) {
      const { schema, name } = splitFqname(seq);
      if ((await relationFacts(local, schema, name)).kind === 'S') continue;
      if (!flags.create) {
        throw new SkytoolsError('MISSING_OBJECT', `Sequence '${seq}' missing on local node`, {
          sequence: seq,
        });
      }
      toCreate.add(seq);
    }
    for (const seq of seqs) {
      if (toCreate.has(seq)) {
        const { statements, notes } = createSequenceStatements(seq);
        await runCreate(session, nodeName, local, seq, statements, notes);
      }
      await session.change(nodeName, local, 'select * from londiste.local_add_seq($1, $2)', [
        session.queue,
        seq,
      ]);
    }
  },
};
