/**
 * The base of every error skytools throws on purpose.
 *
 * `code` is a stable, machine-readable name; `context` names what the error is about
 * (queue, consumer, node, directory, port, ...), so callers and logs never have to parse
 * the message text.
 */
export class SkytoolsError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
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
