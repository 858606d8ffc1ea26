/**
 * The data_maintainer command: the job lifecycle of every tool (daemon, pidfile, signals,
 * reload) around runs of DataMaintainerRun. `loop_delay` below 0 (the default, as upstream:
 * it is mostly run from cron) makes one run and exits; above 0, a run every loop_delay
 * seconds. A failed run is logged as `Job <name> crashed: ...`; a single run then exits 1, a
 * looping job tries again after exception_sleep.
 */
import { fileURLToPath } from 'node:url';
import { Config, warnUnknownKeys } from '../../config/index.js';
import { SkytoolsError } from '../../errors.js';
import type { ControlFlags } from '../../script/control.js';
import { controlSignal, sendControl } from '../../script/control.js';
import { liveLoopOptions, ScriptLoop } from '../../script/index.js';
import {
  type JobContext,
  type JobFlags,
  jobFailure,
  loadFailure,
  type ProcessJob,
  runJobProcess,
} from '../../script/job-process.js';
import { parseOverrides, withOverrides } from '../../script/overrides.js';
import { reportFailure } from '../../script/report-failure.js';
import { packageVersion } from '../../version.js';
import { jobProgram } from '../job-cli.js';
import { DataMaintainerRun } from './run.js';
import {
  type DataMaintainerSettings,
  dataMaintainerKeys,
  loadDataMaintainerSettings,
} from './settings.js';

const name = 'data_maintainer';

export const dataMaintainerSample = `[data_maintainer]
# where the keys come from: a query on dbread, read through a server-side cursor ...
dbread = dbname=shop host=127.0.0.1
sql_get_pk_list = select id from sessions where expires < now()
# ... or a CSV file whose first line names the fields
#fileread = keys.csv
#csv_delimiter = ,
#csv_quotechar = "

# run for each key, its fields as %%(name)s parameters
dbwrite = dbname=shop host=127.0.0.1
sql_modify = delete from sessions where id = %%(id)s and expires < now()

# optional statements around the run; a row sql_before_run returns gives parameters to the
# others; each may have its own database (default: dbwrite)
#sql_before_run = select now() as started
#dbbefore =
#sql_after_run = insert into maint_log (job, started) values ('sessions', %%(started)s)
#dbafter =
# run sql_after_run also when the key list was empty
#after_zero_rows = 1
#sql_on_crash =
#dbcrash =
# pause before each fetch while this returns true (30 s) or a number of seconds above 0
#sql_throttle = select count(*) > 1000 from pgq.event_1
#dbthrottle =

# keys fetched at once; with autocommit = 0 also the rows per transaction
#fetch_count = 100
# commit after each row
#autocommit = 1
# seconds to sleep after each commit
#commit_delay = 0.0
# keep the cursor's rows when its transaction ends (no transaction stays open on dbread)
#with_hold = 1

# ours: where the position is kept, so a stopped or failed run resumes there; the keys are
# then taken in the order of their columns
#position_file = ~/state/%(job_name)s.pos

# below 0: one run and exit (cron); above 0: a run every loop_delay seconds
#loop_delay = -1
#logfile = ~/log/%(job_name)s.log
#pidfile = ~/pid/%(job_name)s.pid
`;

interface Flags extends JobFlags, ControlFlags {
  ini?: boolean;
  set: string[];
}

/** Run data_maintainer with `args` (without node and script); resolves with the exit code. */
export async function runDataMaintainer(args: string[]): Promise<number> {
  const command = jobProgram({
    name,
    description:
      'Process a large key list (a query or a CSV file) in small transactions with sql_modify.',
    manual: 'docs/queue-tools.md',
    unit: 'commit',
  });
  let overrides: Record<string, string>;
  try {
    await command.parseAsync(args, { from: 'user' });
    overrides = parseOverrides(command.opts<Flags>().set);
  } catch (error) {
    return reportFailure(name, error);
  }
  const flags = command.opts<Flags>();
  if (flags.ini) {
    process.stdout.write(withOverrides(dataMaintainerSample, overrides));
    return 0;
  }
  const configArg = command.args[0];
  if (configArg === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  const load = () =>
    loadDataMaintainerSettings(Config.load(configArg, [name, `${name}3`], { overrides }));
  let settings: DataMaintainerSettings;
  try {
    settings = load();
  } catch (error) {
    return loadFailure(name, error);
  }
  const control = controlSignal(flags);
  if (control) return sendControl(settings.pidfile, control);
  return runJobProcess({
    program: name,
    settings,
    flags,
    load,
    daemon: {
      script: fileURLToPath(new URL(`../../../bin/${name}.js`, import.meta.url)),
      args: [configArg, ...flags.set.flatMap((pair) => ['--set', pair])],
    },
    logBase: { job: settings.jobName },
    stopUnit: 'commit',
    stoppedLine: `${name} stopped`,
    create: () => new DataMaintainerJob(settings, flags),
  });
}

class DataMaintainerJob implements ProcessJob<DataMaintainerSettings> {
  #settings: DataMaintainerSettings;
  readonly #stop = new AbortController();
  readonly #now = new AbortController();

  constructor(
    settings: DataMaintainerSettings,
    private readonly flags: Flags,
  ) {
    this.#settings = settings;
  }

  stop(mode: 'graceful' | 'immediate'): void {
    if (mode === 'immediate') this.#now.abort();
    this.#stop.abort();
  }

  /** Takes effect at the next run. */
  reload(settings: DataMaintainerSettings): void {
    this.#settings = settings;
  }

  async run(context: JobContext): Promise<number> {
    const { logger } = context;
    warnUnknownKeys(
      Config.load(this.#settings.file, [this.#settings.section]),
      dataMaintainerKeys,
      (line) => logger.warn(line),
    );
    logger.info(`${name} ${packageVersion} starting`);
    const loop = new ScriptLoop(
      liveLoopOptions(() => this.#settings, {
        logger,
        loopDelay: this.#settings.loopDelay,
        signal: this.#stop.signal,
      }),
    );
    try {
      await loop.run(async () => {
        const current = new DataMaintainerRun(
          this.#settings,
          logger,
          { stop: this.#stop.signal, now: this.#now.signal },
          `${name} ${this.#settings.jobName}`,
        );
        try {
          await current.run();
        } finally {
          await current.close();
        }
        return false;
      });
    } catch (error) {
      // A single run that failed: the loop has logged the crash with its reason already.
      if (error instanceof SkytoolsError) {
        if (this.flags.quiet) reportFailure(name, error);
        return 1;
      }
      return jobFailure(name, this.#settings.jobName, context, this.flags.quiet, error);
    }
    return context.stoppedNow ? 1 : 0;
  }
}
