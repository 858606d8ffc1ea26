/**
 * The base of every error skytools throws on purpose, and the names of its codes.
 *
 * `code` is a stable, machine-readable name; `context` names what the error is about
 * (queue, consumer, node, directory, port, ...), so callers and logs never have to parse
 * the message text.
 */

/** Server and connection failures, one code per class (see `src/db/database-error.ts`). */
export type DatabaseErrorCode =
  | 'CONNECTION_LOST'
  | 'SERVER_STARTING'
  | 'LOCK_NOT_AVAILABLE'
  | 'SERIALIZATION_FAILURE'
  | 'QUERY_CANCELED'
  | 'OUT_OF_RESOURCES'
  | 'READ_ONLY'
  | 'MISSING_OBJECT'
  | 'PERMISSION_DENIED'
  | 'PGQ_ERROR'
  | 'BAD_INPUT'
  | 'SERVER_ERROR'
  | 'DB_ERROR';

/** Local clusters (src/pg). */
export type ClusterErrorCode =
  | 'BAD_BIN_DIR'
  | 'BIN_NOT_ACCESSIBLE'
  | 'NOT_A_CLUSTER'
  | 'DIR_NOT_EMPTY'
  | 'DIR_NOT_ACCESSIBLE'
  | 'VERSION_MISMATCH'
  | 'WRONG_OWNER'
  | 'PORT_IN_USE'
  | 'ALREADY_RUNNING'
  | 'INITDB_FAILED'
  | 'START_FAILED'
  | 'STOP_FAILED'
  | 'OS_USER';

/** Options, config files, command lines. */
export type UsageErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_CONNSTRING'
  | 'BAD_OPTION'
  | 'BAD_OPTIONS'
  | 'BAD_SETTINGS'
  | 'MISSING_PARAMETER'
  | 'NEED_CONFIG'
  | 'USAGE';

/** Connections, installer, process lifecycle. */
export type SetupErrorCode =
  | 'CONNECT_FAILED'
  | 'INSTALL_FAILED'
  | 'INSUFFICIENT_PRIVILEGE'
  | 'MISSING_DEPENDENCY'
  | 'UNKNOWN_SCHEMA'
  | 'FOREIGN_SCHEMA'
  | 'UPSTREAM_EXTENSION'
  | 'ADOPT_REFUSED'
  | 'PGQ_EXT_MISSING'
  | 'PIDFILE_BUSY'
  | 'PIDFILE_UNREADABLE'
  | 'PIDFILE_UNWRITABLE'
  | 'LOGFILE_UNWRITABLE'
  | 'STOPPED'
  | 'TLS_FILE_UNREADABLE'
  | 'SIGNAL_FAILED'
  | 'DAEMON_START_FAILED'
  | 'ALL_DATABASES_FAILED'
  | 'DEMO_SETUP';

/** Queues, producers, consumers (src/pgq, src/consumers). */
export type PgqErrorCode =
  | 'QUEUE_EXISTS'
  | 'QUEUE_NOT_FOUND'
  | 'CONSUMER_NOT_REGISTERED'
  | 'CONSUMER_LOCKED'
  | 'ALREADY_RUNNING'
  | 'BAD_EVENT'
  | 'BAD_RETRY_DELAY'
  | 'BAD_TRACKING_FILE'
  | 'NO_TRACKING_FILE'
  | 'BATCH_CLOSED'
  | 'BATCH_NOT_OPEN'
  | 'BATCH_NOT_READ'
  | 'BATCH_OPEN'
  | 'BATCH_READ_TWICE'
  | 'HANDLER_FAILED'
  | 'MAX_RETRIES'
  | 'RETRY_UNSUPPORTED'
  | 'INSERT_FAILED'
  | 'PRODUCE_FAILED'
  | 'TRANSACTION_ABORTED'
  | 'LOST_POSITION'
  | 'NO_TARGET_TICK'
  | 'DST_QUERY_FAILED';

/** Cascades (src/cascade): pgq_node refusals and the rules of the Node side. */
export type CascadeErrorCode =
  | 'CASCADE_NO_RESULT'
  | 'TABLES_NOT_READY'
  | 'CASCADE_REFUSED'
  | 'NODE_NOT_FOUND'
  | 'NOT_A_HELPER'
  | 'NOT_A_NODE'
  | 'NO_NODE'
  | 'NO_QUEUE'
  | 'NO_ROOT'
  | 'NO_WORKER'
  | 'NO_BATCH_SQL'
  | 'NO_EVENT_TABLE'
  | 'NO_GRAVESTONE'
  | 'UNKNOWN_CASCADE_EVENT'
  | 'UNKNOWN_CONSUMER'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_QUEUE'
  | 'NODE_DEAD'
  | 'NODE_EXISTS'
  | 'NODE_UNREACHABLE'
  | 'NOT_ACKNOWLEDGED'
  | 'NOT_BRANCH'
  | 'NOT_CAUGHT_UP'
  | 'OLD_NODE_ALIVE'
  | 'HAS_SUBSCRIBERS'
  | 'LOCATION_MISMATCH'
  | 'PROVIDER_IS_LEAF'
  | 'PROVIDER_LOOP'
  | 'ROOT_HAS_NO_PROVIDER'
  | 'SELF_SUBSCRIPTION'
  | 'SELF_TAKEOVER'
  | 'SUBSCRIBE_FAILED'
  | 'TAG_SELF_DEAD'
  | 'LEAF_RESURRECT'
  | 'LEAF_TAKEOVER'
  | 'TAKEOVER_STOPPED'
  | 'FORK_TICK_MISSING'
  | 'TICK_MISSING'
  | 'REPLICA_ROLE_DENIED'
  | 'WORKER_LOCKED'
  | 'WAIT_TIMEOUT'
  | 'DUMP_EXISTS'
  | 'DUMP_MISMATCH'
  | 'DUMP_NOT_WRITABLE';

/** Londiste (src/londiste): handlers and the apply of table events. */
export type LondisteErrorCode =
  | 'UNKNOWN_HANDLER'
  | 'BAD_HANDLER'
  | 'BAD_HANDLER_ARG'
  | 'BAD_HANDLER_MODULE'
  | 'BAD_SHARD_INFO'
  | 'UNKNOWN_COLUMN'
  | 'APPLY_FAILED'
  | 'BAD_SCRIPT'
  | 'EXECUTE_FAILED';

/** Londiste compare and repair (src/londiste/compare). */
export type CompareErrorCode = 'NO_PRIMARY_KEY' | 'KEY_MISMATCH' | 'STATE_FILE' | 'TABLE_MOVING';

/** walmgr (src/walmgr): archive, backups, restore. */
export type WalmgrErrorCode =
  | 'ARCHIVE_CONFLICT'
  | 'ARCHIVE_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'WAL_NOT_FOUND'
  | 'BACKUP_LOCKED'
  | 'BACKUP_FAILED'
  | 'NO_BACKUP'
  | 'SERVER_RUNNING'
  | 'RESTORE_FAILED'
  | 'WRONG_ROLE'
  | 'NO_SERVER_BINARIES'
  | 'NO_CLIENT_PROGRAMS'
  | 'NOT_STREAMING'
  | 'STANDBY_NOT_CONNECTED'
  | 'COMMAND_FAILED';

/** Every code a SkytoolsError can carry: checks of `error.code` are type-checked. */
export type ErrorCode =
  | DatabaseErrorCode
  | ClusterErrorCode
  | UsageErrorCode
  | SetupErrorCode
  | PgqErrorCode
  | CascadeErrorCode
  | LondisteErrorCode
  | CompareErrorCode
  | WalmgrErrorCode;

export class SkytoolsError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}
