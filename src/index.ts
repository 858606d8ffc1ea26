export * from './cascade/index.js';
export {
  DatabaseFailure,
  type Failure,
  type FailureContext,
  type FailureKind,
  failureOf,
  fromDatabaseError,
  isConnectionLost,
} from './db/database-error.js';
export { quoteIdent, quoteLiteral, quoteQualified } from './db/quote.js';
export { type ErrorCode, SkytoolsError } from './errors.js';
export type {
  ApplyContext,
  CopyContext,
  CopyResult,
  HandlerArgument,
  HandlerFactory,
  HandlerTable,
  TableHandler,
} from './londiste/handler.js';
export * from './pgq/index.js';
export { type StopOnSignalsOptions, stopOnSignals } from './script/stop-on-signals.js';
export {
  Pgqd,
  type PgqdOptions,
  type PgqdSettings,
  type PgqdStats,
  pgqdSettings,
} from './ticker/index.js';
export { packageVersion } from './version.js';
