import { SkytoolsError } from '../errors.js';

/** A problem with a config file: the context names file, section and key where known. */
export class ConfigError extends SkytoolsError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('BAD_CONFIG', message, context, cause === undefined ? undefined : { cause });
  }
}
