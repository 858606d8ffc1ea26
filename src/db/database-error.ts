/**
 * One place that says what a failure of the server or of the connection means: a class decided
 * by SQLSTATE (or by the socket's error code), never by the message text, and whether retrying
 * may help. Library calls turn driver errors into `DatabaseFailure` here, keeping the server's
 * primary message as it is (PgQ's P0001 texts are upstream's and callers match on them), its
 * SQLSTATE, DETAIL and HINT, and the original error as `cause`. The job loops ask
 * `failureOf()` whether to retry or to stop.
 */
import pg from 'pg';
import { type ErrorCode, SkytoolsError } from '../errors.js';

/** What went wrong, as far as retrying is concerned. */
export type FailureKind =
  /** The session is gone: class 08, admin or crash shutdown (57P01/57P02), a socket error. */
  | 'connection-lost'
  /** The server is starting or shutting down (57P03). */
  | 'server-starting'
  /** A lock could not be had (55P03 lock_not_available, 40P01 deadlock). */
  | 'lock'
  /** A transaction lost a serialization race (40001 and the rest of class 40). */
  | 'serialization'
  /** A statement was cancelled (57014: statement_timeout, pg_cancel_backend). */
  | 'canceled'
  /** Out of connections, memory or disk (class 53). */
  | 'resources'
  /** A read-only transaction or a standby (25006). */
  | 'read-only'
  /** A schema, function, table, database or other object does not exist. */
  | 'missing-object'
  /** Not allowed: privileges (42501), authentication (class 28). */
  | 'permission'
  /** PgQ's own refusal (P0001: a plain `raise exception`, upstream's text). */
  | 'pgq'
  /** Data or statement the server rejects: classes 22, 23, 42 (other than the above), 2F, ... */
  | 'bad-input'
  /** An internal or system error of the server (classes XX, 58). */
  | 'server-error'
  /** Options, config, a thing of ours that does not exist or is taken: a person must act. */
  | 'config'
  /** Anything else; retried, as the job loops always did. */
  | 'other';

export interface Failure {
  kind: FailureKind;
  /** Retrying without anyone changing anything may help. */
  transient: boolean;
}

const transientKinds: ReadonlySet<FailureKind> = new Set([
  'connection-lost',
  'server-starting',
  'lock',
  'serialization',
  'canceled',
  'resources',
  'read-only',
  'server-error',
  'other',
]);

const codeOfKind: Record<FailureKind, ErrorCode> = {
  'connection-lost': 'CONNECTION_LOST',
  'server-starting': 'SERVER_STARTING',
  lock: 'LOCK_NOT_AVAILABLE',
  serialization: 'SERIALIZATION_FAILURE',
  canceled: 'QUERY_CANCELED',
  resources: 'OUT_OF_RESOURCES',
  'read-only': 'READ_ONLY',
  'missing-object': 'MISSING_OBJECT',
  permission: 'PERMISSION_DENIED',
  pgq: 'PGQ_ERROR',
  'bad-input': 'BAD_INPUT',
  'server-error': 'SERVER_ERROR',
  config: 'BAD_CONFIG',
  other: 'DB_ERROR',
};

// A copy of a DatabaseFailure's code on another SkytoolsError keeps its meaning.
const kindOfCode = new Map<ErrorCode, FailureKind>(
  (Object.entries(codeOfKind) as [FailureKind, ErrorCode][])
    .filter(([kind]) => kind !== 'config' && kind !== 'other')
    .map(([kind, code]) => [code, kind]),
);

// SQLSTATEs whose meaning differs from the rest of their class.
const bySqlstate: Readonly<Record<string, FailureKind>> = {
  '57P01': 'connection-lost', // admin_shutdown, pg_terminate_backend
  '57P02': 'connection-lost', // crash_shutdown
  '57P03': 'server-starting', // cannot_connect_now
  '57P05': 'connection-lost', // idle_session_timeout
  '57014': 'canceled',
  '55P03': 'lock',
  '40P01': 'lock',
  '25006': 'read-only',
  '3F000': 'missing-object', // invalid_schema_name
  '3D000': 'missing-object', // invalid_catalog_name: no such database
  '42883': 'missing-object', // undefined_function
  '42P01': 'missing-object', // undefined_table
  '42704': 'missing-object', // undefined_object
  '42703': 'missing-object', // undefined_column (an older schema)
  '42501': 'permission',
  P0001: 'pgq',
};

const byClass: Readonly<Record<string, FailureKind>> = {
  '08': 'connection-lost',
  '40': 'serialization',
  '53': 'resources',
  '28': 'permission',
  '22': 'bad-input',
  '23': 'bad-input',
  '2F': 'bad-input',
  '42': 'bad-input',
  '44': 'bad-input',
  '54': 'bad-input', // program limit exceeded: the same input fails again
  '58': 'server-error',
  XX: 'server-error',
};

// node-postgres reports a dropped connection with Errors of its own that carry no code; these
// are its fixed texts (of the client library, not of the server), compared whole.
const clientConnectionTexts: ReadonlySet<string> = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
  'timeout expired',
]);

// Our own codes that no retry can fix: the thing is not there, not ours, or badly described.
const permanentCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_CONFIG',
  'BAD_CONNSTRING',
  'BAD_OPTION',
  'BAD_OPTIONS',
  'BAD_SETTINGS',
  'MISSING_PARAMETER',
  'NEED_CONFIG',
  'USAGE',
  'QUEUE_NOT_FOUND',
  'CONSUMER_NOT_REGISTERED',
  'CONSUMER_LOCKED',
  'WORKER_LOCKED',
  'NODE_NOT_FOUND',
  'NOT_A_NODE',
  'NO_NODE',
  'UNKNOWN_QUEUE',
  'BAD_TRACKING_FILE',
  'MAX_RETRIES',
  'INSUFFICIENT_PRIVILEGE',
]);

/** The five-character SQLSTATE of a server error, or undefined. */
function sqlstateOf(error: unknown): string | undefined {
  if (!(error instanceof pg.DatabaseError)) return undefined;
  const code = error.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The class of a SQLSTATE. */
export function kindOfSqlstate(sqlstate: string): FailureKind {
  return bySqlstate[sqlstate] ?? byClass[sqlstate.slice(0, 2)] ?? 'other';
}

function failure(kind: FailureKind): Failure {
  return { kind, transient: transientKinds.has(kind) };
}

/**
 * What an error means for whoever would retry: our typed errors by their kind or code, a
 * server error by SQLSTATE, a socket or client error as a lost connection. A `CONNECT_FAILED`
 * is judged by its cause (a server that is down is transient, a missing database is not).
 */
export function failureOf(error: unknown): Failure {
  if (error instanceof DatabaseFailure) return failure(error.kind);
  if (error instanceof SkytoolsError) {
    if (error.code === 'CONNECT_FAILED') {
      const cause = failureOf(error.cause);
      return cause.kind === 'other' ? failure('connection-lost') : cause;
    }
    const kind = kindOfCode.get(error.code);
    if (kind !== undefined) return failure(kind);
    return failure(permanentCodes.has(error.code) ? 'config' : 'other');
  }
  const sqlstate = sqlstateOf(error);
  if (sqlstate !== undefined) return failure(kindOfSqlstate(sqlstate));
  if (isSocketError(error)) return failure('connection-lost');
  return failure('other');
}

function isSocketError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  // Node's system errors (ECONNRESET, EPIPE, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ...).
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return code === undefined && clientConnectionTexts.has(error.message);
}

/** True when the session is gone (or could not be had), so reconnecting is the remedy. */
export function isConnectionLost(error: unknown): boolean {
  const kind = failureOf(error).kind;
  return kind === 'connection-lost' || kind === 'server-starting';
}

/** What a failed call was about: names shown in the message and kept in `context`. */
export interface FailureContext {
  /** What was being done, e.g. `register_consumer` or `reading the next batch`. */
  action?: string;
  queue?: string;
  consumer?: string;
  node?: string;
  database?: string;
  [key: string]: unknown;
}

/** A failure of the server or the connection, classed; `cause` is the driver's error. */
export class DatabaseFailure extends SkytoolsError {
  readonly kind: FailureKind;
  readonly transient: boolean;
  /** The server's primary message as it came (upstream's texts for PgQ's errors). */
  readonly serverMessage: string;
  readonly sqlstate: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(
    kind: FailureKind,
    message: string,
    fields: {
      serverMessage: string;
      sqlstate?: string | undefined;
      detail?: string | undefined;
      hint?: string | undefined;
    },
    context: Record<string, unknown>,
    cause: unknown,
  ) {
    super(codeOfKind[kind], message, context, { cause });
    this.kind = kind;
    this.transient = transientKinds.has(kind);
    this.serverMessage = fields.serverMessage;
    this.sqlstate = fields.sqlstate;
    this.detail = fields.detail;
    this.hint = fields.hint;
  }
}

/**
 * A driver, server or socket error as our typed error: `<action> for consumer "c" on queue
 * "q": <server's message>` (the server's text last, as pino's `err.message` would add it).
 * Our own errors (SkytoolsError) pass through unchanged.
 */
export function fromDatabaseError(error: unknown, context: FailureContext = {}): SkytoolsError {
  if (error instanceof SkytoolsError) return error;
  const { kind } = failureOf(error);
  const serverMessage = error instanceof Error ? error.message : String(error);
  const fields: ConstructorParameters<typeof DatabaseFailure>[2] = { serverMessage };
  const extra: Record<string, unknown> = {};
  if (error instanceof pg.DatabaseError) {
    fields.sqlstate = sqlstateOf(error);
    fields.detail = error.detail;
    fields.hint = error.hint;
    // Where the server says what the error is about, keep it for callers and logs.
    for (const key of ['schema', 'table', 'column', 'constraint', 'dataType'] as const) {
      if (error[key] !== undefined) extra[key] = error[key];
    }
    if (fields.sqlstate !== undefined) extra.sqlstate = fields.sqlstate;
  } else {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') extra.errno = code;
  }
  const { action, ...names } = context;
  const where = describeWhere(names);
  const head = `${action ?? ''}${where}`.trim();
  return new DatabaseFailure(
    kind,
    head === '' ? serverMessage : `${head}: ${serverMessage}`,
    fields,
    { ...names, ...extra },
    error,
  );
}

function describeWhere(names: Omit<FailureContext, 'action'>): string {
  const parts: string[] = [];
  if (names.consumer !== undefined) parts.push(`for consumer ${JSON.stringify(names.consumer)}`);
  if (names.queue !== undefined) parts.push(`on queue ${JSON.stringify(names.queue)}`);
  if (names.node !== undefined) parts.push(`at node ${JSON.stringify(names.node)}`);
  if (names.database !== undefined) parts.push(`in database ${JSON.stringify(names.database)}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

/**
 * Run `fn` and reject with our typed error instead of a driver's: the library's calls
 * (register, unregister, pgq_node calls) use it so callers see one error model.
 */
export async function withDatabaseErrors<T>(
  context: FailureContext,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fromDatabaseError(error, context);
  }
}
