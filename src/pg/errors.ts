import { SkytoolsError } from '../errors.js';

/** Why a local cluster operation failed; stable names for callers and tests. */
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

/** An error of the local-cluster module; `context.dir` names the cluster directory. */
export class ClusterError extends SkytoolsError {
  declare readonly code: ClusterErrorCode;

  constructor(
    code: ClusterErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options);
  }
}
