/** queue_mover and queue_splitter on the consumer-job layer: sections, samples, commands. */
import type { ConsumerTool, ToolCommand } from './job-cli.js';
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

function serialCommands(tool: string): ToolCommand<QueueMoverSettings>[] {
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
