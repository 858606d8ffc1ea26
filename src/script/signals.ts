/**
 * Signal handling for the command-line tools (never installed in library mode, where an
 * AbortSignal stops things): SIGINT = graceful stop, a second SIGINT or SIGTERM = immediate
 * stop, SIGHUP = reload. SIGPIPE is ignored so a closed pipe on stderr cannot kill a daemon.
 */
export interface SignalHandlers {
  stop(mode: 'graceful' | 'immediate', signal: NodeJS.Signals): void;
  reload(): void;
}

export function installSignalHandlers(handlers: SignalHandlers): () => void {
  let interrupted = false;
  const onInt = () => {
    handlers.stop(interrupted ? 'immediate' : 'graceful', 'SIGINT');
    interrupted = true;
  };
  const onTerm = () => handlers.stop('immediate', 'SIGTERM');
  const onHup = () => handlers.reload();
  const onPipe = () => {};
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  process.on('SIGPIPE', onPipe);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    process.off('SIGPIPE', onPipe);
  };
}
