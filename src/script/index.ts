export {
  isDaemonChild,
  reportDaemonFailure,
  reportDaemonReady,
  spawnDaemon,
} from './daemon.js';
export { IdleStatsLine, maxKeepaliveSeconds } from './idle-stats.js';
export {
  createScriptLogger,
  type LogFormat,
  type LogOptions,
  levelFromFlags,
  type ScriptLogger,
} from './logger.js';
export { type LoopOptions, type LoopSettings, liveLoopOptions, ScriptLoop } from './loop.js';
export {
  acquirePidfile,
  type Pidfile,
  processAlive,
  readPidfile,
  signalPidfile,
} from './pidfile.js';
export { installSignalHandlers, type SignalHandlers } from './signals.js';
export { abortableSleep } from './sleep.js';
export { formatStats, StatsCounter } from './stats.js';
export { type StopOnSignalsOptions, stopOnSignals } from './stop-on-signals.js';
export { type SyslogOptions, type SyslogWriter, startSyslog, syslogFacilities } from './syslog.js';
