/**
 * scriptmgr's INI: the `[scriptmgr]` section (`config_list`, its own logfile and pidfile)
 * and one section per service (`script`, `args`, `cwd`, `user`, `disabled`); then the jobs:
 * every file the globs name, one job per section of it named like a service (with or
 * without upstream's `3`), with the job's own `job_name`, `pidfile` and `disabled`.
 */
import path from 'node:path';
import { Config, ConfigError, readIniFile } from '../config/index.js';
import { baseScriptKeys, dbScriptKeys } from '../config/known-keys.js';
import { expandGlob } from './glob.js';

export interface Service {
  service: string;
  script: string;
  args: string;
  cwd: string;
  user: string;
  disabled: boolean;
}

export interface Job {
  jobName: string;
  service: string;
  /** The job's INI file, absolute. */
  config: string;
  pidfile: string;
  script: string;
  args: string;
  cwd: string;
  user: string;
  disabled: boolean;
}

export interface ScriptmgrSettings {
  file: string;
  jobName: string;
  pidfile: string | undefined;
  logfile: string | undefined;
  services: Service[];
  jobs: Job[];
  /** Lines about files the globs found that could not be read as jobs. */
  warnings: string[];
}

/** Keys of `[scriptmgr]`: upstream's DBScript ones and `config_list`. */
export const scriptmgrKeys: readonly string[] = [...baseScriptKeys, ...dbScriptKeys, 'config_list'];

/** Services whose sections stand for the same tool: `londiste` and `londiste3`. */
function sameService(a: string, b: string): boolean {
  return a === b || `${a}3` === b || a === `${b}3`;
}

export function loadScriptmgr(file: string): ScriptmgrSettings {
  const cf = Config.load(file, ['scriptmgr']);
  const sections = readIniFile(cf.file);
  const services: Service[] = [];
  for (const name of sections.keys()) {
    if (name === 'scriptmgr' || name === 'DEFAULT') continue;
    const svc = Config.load(cf.file, [name]);
    const disabled = svc.getBool('disabled', false);
    const script = svc.getFile('script', disabled ? '/disabled' : undefined);
    services.push({
      service: name,
      script,
      args: svc.get('args', ''),
      cwd: path.resolve(path.dirname(cf.file), svc.getFile('cwd', '.')),
      user: svc.get('user', ''),
      disabled,
    });
  }
  const withUser = services.filter((s) => s.user !== '').length;
  if (withUser > 0 && withUser < services.length) {
    throw new ConfigError(
      `${cf.file}: Invalid config - some jobs have user=, some don't (${services
        .filter((s) => s.user === '')
        .map((s) => `[${s.service}]`)
        .join(', ')} without)`,
      { file: cf.file },
    );
  }
  const warnings: string[] = [];
  const jobs: Job[] = [];
  const files = cf
    .getList('config_list')
    .flatMap((pattern) => expandGlob(pattern, path.dirname(cf.file)));
  for (const jobFile of [...new Set(files)]) {
    if (jobFile === cf.file) continue;
    let jobSections: string[];
    try {
      jobSections = [...readIniFile(jobFile).keys()];
    } catch (error) {
      warnings.push(`skipping ${jobFile}: ${(error as Error).message}`);
      continue;
    }
    for (const section of jobSections) {
      const service = services.find((s) => sameService(s.service, section));
      if (service === undefined) continue;
      const job = Config.load(jobFile, [section]);
      const pidfile = job.getFile('pidfile', '');
      jobs.push({
        jobName: job.get('job_name'),
        service: service.service,
        config: job.file,
        // The job resolves a relative pidfile from the directory it is started in.
        pidfile: pidfile === '' ? '' : path.resolve(service.cwd, pidfile),
        script: service.script,
        args: service.args,
        cwd: service.cwd,
        user: service.user,
        disabled: service.disabled || job.getBool('disabled', false),
      });
    }
  }
  jobs.sort((a, b) => a.service.localeCompare(b.service) || a.jobName.localeCompare(b.jobName));
  return {
    file: cf.file,
    jobName: cf.get('job_name'),
    pidfile: cf.has('pidfile') ? cf.getFile('pidfile') : undefined,
    logfile: cf.has('logfile') ? cf.getFile('logfile') : undefined,
    services,
    jobs,
    warnings,
  };
}
