/** queue_mover, queue_splitter and queue_loader on the consumer-job layer. */

import type { ConsumerTool, ToolCommand } from './job-cli.js';
import type { JobSettings } from './job-settings.js';
import { queueLoaderProcessor } from './queue-loader/loader.js';
import {
  loadQueueLoaderSettings,
  type QueueLoaderSettings,
  queueLoaderKeys,
} from './queue-loader/settings.js';
import {
  loadQueueMoverSettings,
  loadQueueSplitterSettings,
  type QueueMoverSettings,
  queueMoverKeys,
  queueMoverProcessor,
  queueSplitterKeys,
  queueSplitterProcessor,
  serialConsumerOf,
} from './queue-mover.js';

const commonSample = `# the source queue's database (libpq key=value string or URL; empty: PGHOST etc.)
src_db = dbname=shop host=127.0.0.1
# where the events go; schemas pgq and pgq_ext must be installed there
dst_db = dbname=archive host=127.0.0.1

queue_name = orders
# consumer name; default: job_name (the file name without .ini)
#consumer_name = %(job_name)s
`;

const jobSample = `
# where to log besides stderr, and the pidfile (needed by -d, -s, -k, -r)
#logfile = ~/log/%(job_name)s.log
#pidfile = ~/pid/%(job_name)s.pid

# seconds between polls when no tick notification arrives
#loop_delay = 1
# seconds to wait after an error before the batch is tried again
#exception_sleep = 20
# seconds after which the database connections are closed and reopened, between batches
#connection_lifetime = 1200
`;

type SerialSettings = JobSettings & { readonly dstDb: string };

function serialCommands<S extends SerialSettings>(tool: string): ToolCommand<S>[] {
  return [
    {
      flag: 'rewind',
      description: 'move the queue consumer to the tick dst_db last applied, and exit',
      async run(settings) {
        const tick = await serialConsumerOf(settings, tool).rewind();
        return `consumer ${settings.consumer} is at tick ${tick}, the last one applied in dst_db`;
      },
    },
    {
      flag: 'reset',
      description:
        "clear dst_db's record of the last applied tick (the next batch is applied as it comes), and exit",
      async run(settings) {
        await serialConsumerOf(settings, tool).reset();
        return `cleared the tick tracking of consumer ${settings.consumer} in dst_db`;
      },
    },
  ];
}

export const queueMoverTool: ConsumerTool<QueueMoverSettings> = {
  name: 'queue_mover',
  description:
    'Copy every event of a PgQ queue into a queue of another database, exactly once (pgq_ext tick tracking in dst_db).',
  sampleIni: `[queue_mover]\n${commonSample}
# the queue in dst_db that receives the events (type, data, extras and time kept)
dst_queue_name = orders_archive
${jobSample}`,
  manual: 'docs/queue-tools.md',
  keys: queueMoverKeys,
  load: loadQueueMoverSettings,
  processor: queueMoverProcessor,
  subscription: (settings) => serialConsumerOf(settings, 'queue_mover'),
  commands: serialCommands('queue_mover'),
};

export const queueSplitterTool: ConsumerTool<QueueMoverSettings> = {
  name: 'queue_splitter',
  description:
    'Route every event of a PgQ queue into the queue of another database named by one of its fields, exactly once.',
  sampleIni: `[queue_splitter]\n${commonSample}
# the event field that names each event's queue in dst_db: type, data, extra1..extra4
#queue_field = extra1
${jobSample}`,
  manual: 'docs/queue-tools.md',
  keys: queueSplitterKeys,
  load: loadQueueSplitterSettings,
  processor: queueSplitterProcessor,
  subscription: (settings) => serialConsumerOf(settings, 'queue_splitter'),
  commands: serialCommands('queue_splitter'),
};

export const queueLoaderTool: ConsumerTool<QueueLoaderSettings> = {
  name: 'queue_loader',
  description:
    'Load the row events (I:/U:/D:) of a PgQ queue into tables of a database, by table, split and row modes, exactly once.',
  sampleIni: `[queue_loader]
# the queue's database (libpq key=value string or URL)
src_db = dbname=shop host=127.0.0.1
# the tables' database; schemas pgq_ext (the position) must be installed there
db = dbname=reports host=127.0.0.1
queue_name = orders
${jobSample}
[DEFAULT]
# what to do with a table's events: ignore, direct (into the table) or split (into partitions)
table_mode = ignore
# how to apply them: plain, keep_latest (update = delete + insert, no deletes), keep_all
# (updates become inserts, no deletes) or bulk (each key's last state per batch)
#row_mode = plain
# split: by-batch-time, by-event-time or by-date-field:FIELD
#split_mode = by-batch-time
# the partition's name and how to make one
#split_part = %%(table_name)s_%%(year)s_%%(month)s_%%(day)s
#split_part_template = create table %%(part)s (like %%(parent)s including defaults including constraints including indexes)

[table public.orders]
table_mode = direct

[table public.order_log]
table_mode = split
row_mode = keep_all
`,
  manual: 'docs/queue-tools.md',
  keys: queueLoaderKeys,
  load: loadQueueLoaderSettings,
  processor: queueLoaderProcessor,
  subscription: (settings) => serialConsumerOf(settings, 'queue_loader'),
  commands: serialCommands('queue_loader'),
};
