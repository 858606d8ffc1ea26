/** The two ready tools on the consumer-job layer: their sections, samples and commands. */
import type { ConsumerTool } from './job-cli.js';
import {
  loadSimpleConsumerSettings,
  type SimpleConsumerSettings,
  simpleConsumerKeys,
  simpleConsumerProcessor,
} from './simple-consumer.js';
import {
  loadSimpleLocalConsumerSettings,
  localConsumer,
  type SimpleLocalConsumerSettings,
  simpleLocalConsumerKeys,
  simpleLocalConsumerProcessor,
  simpleLocalConsumerSource,
} from './simple-local-consumer.js';

const commonSample = `# the queue's database (libpq key=value string or URL; empty: PGHOST etc.)
src_db = dbname=shop host=127.0.0.1

# where dst_query runs; default: src_db
dst_db = dbname=reports host=127.0.0.1

queue_name = orders
# consumer name; default: job_name (the file name without .ini)
#consumer_name = %(job_name)s

# run for each row event (types I:, U:, D:); %%(column)s and %%(pgq.ev_id)s are parameters
dst_query = insert into order_log (order_id, ev_id) values (%%(id)s, %%(pgq.ev_id)s)

# only events of these tables (ev_extra1)
#table_filter = public.orders

# where to log besides stderr, and the pidfile (needed by -d, -s, -k, -r); their
# directories must exist
#logfile = ~/log/%(job_name)s.log
#pidfile = ~/pid/%(job_name)s.pid

# serve the job's counters on http://HOST:PORT/metrics (Prometheus); PORT alone = 127.0.0.1
#metrics_port = 9191

# seconds between polls when no tick notification arrives
#loop_delay = 1
# seconds to wait after an error before the batch is tried again
#exception_sleep = 20
# error codes or class names (e.g. DST_QUERY_FAILED, CONNECT_FAILED, 42P01), or ALL, logged as
# a one-line warning instead of an error with its stack within exception_grace seconds of the
# first failure; exception_reset seconds without a failure forget it
#exception_quiet =
#exception_grace = 300
#exception_reset = 900

# seconds after which the database connections are closed and reopened, between batches
#connection_lifetime = 1200

# seconds between {idle: S} stats lines while no batch comes (0: none)
#keepalive_stats = 300
`;

const retrySample = `
# per-event retry instead of trying the whole batch again: a failing event goes to the retry
# queue for retry_delay seconds and the batch goes on (any of these keys turns it on)
#retry_delay = 60
# retries of one event before it goes to dead_letter_queue, or the job stops naming it
# (default: unlimited)
#max_retries = 5
#dead_letter_queue = orders_failed
`;

export const simpleConsumerTool: ConsumerTool<SimpleConsumerSettings> = {
  name: 'simple_consumer',
  description:
    'Run a SQL statement (dst_query) on dst_db for every row event of a PgQ queue; at-least-once.',
  sampleIni: `[simple_consumer]\n${commonSample}${retrySample}`,
  keys: simpleConsumerKeys,
  load: loadSimpleConsumerSettings,
  processor: simpleConsumerProcessor,
};

export const simpleLocalConsumerTool: ConsumerTool<SimpleLocalConsumerSettings> = {
  name: 'simple_local_consumer',
  description:
    "simple_consumer with the position also kept in local_tracking_file (upstream's LocalConsumer).",
  sampleIni: `[simple_local_consumer]\n${commonSample}
# tick of the last batch done; its directory must exist (default here: beside this file)
local_tracking_file = %(config_dir)s/%(job_name)s.tick
`,
  keys: simpleLocalConsumerKeys,
  load: loadSimpleLocalConsumerSettings,
  processor: simpleLocalConsumerProcessor,
  source: simpleLocalConsumerSource,
  commands: [
    {
      flag: 'rewind',
      description: 'move the queue consumer to the tick of local_tracking_file and exit',
      async run(settings, log) {
        const consumer = localConsumer(settings, { logger: log });
        const tick = await consumer.rewind();
        return `consumer ${settings.consumer} is at tick ${tick} of ${consumer.tracking.file}`;
      },
    },
    {
      flag: 'reset',
      description: 'remove local_tracking_file (the next start takes the queue position) and exit',
      async run(settings) {
        const consumer = localConsumer(settings);
        const file = consumer.tracking.file;
        return consumer.reset() ? `removed ${file}` : `${file} did not exist`;
      },
    },
  ],
};
