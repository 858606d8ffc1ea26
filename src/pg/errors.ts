import { type ClusterErrorCode, SkytoolsError } from '../errors.js';

/** Why a local cluster operation failed; stable names for callers and tests. */
export type { ClusterErrorCode };

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
