import { type ErrorCode, SkytoolsError } from '../errors.js';

/** A walmgr failure: the context names the files, directories or settings involved. */
export class WalmgrError extends SkytoolsError {
  constructor(
    code: ErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options);
  }
}
