/**
 * cli/errors: how a command reports failure. A StatusError carries the exact
 * text to print (may be empty) and the exit code; anything else thrown is
 * printed as docker prints client errors and exits 1. Never prints itself.
 */
import { clientErrorText } from '../client/errors.js';

export class StatusError extends Error {
  constructor(
    /** Printed to stderr as-is when non-empty. */
    readonly status: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(status, options);
    this.name = 'StatusError';
  }
}

/** Several errors joined by newlines, like Go's errors.Join. */
export function joinErrors(errors: unknown[]): Error | undefined {
  if (errors.length === 0) return undefined;
  return new Error(errors.map((e) => errorText(e)).join('\n'));
}

/** The line(s) docker would print for `err`. */
export function errorText(err: unknown): string {
  if (err instanceof StatusError) return err.status;
  return clientErrorText(err);
}

/** docker's withHelp: `berth: <err>\n\nRun 'berth <cmd> --help' for more information`. */
export function withHelp(err: unknown, bin: string, command: string): string {
  return `${bin}: ${errorText(err)}\n\nRun '${bin} ${command} --help' for more information`;
}

/**
 * docker's toStatusError for run/create: 127 when the command was not found,
 * 126 when it could not be executed, 125 for any other daemon error.
 */
export function toRunStatusError(err: unknown, bin: string, command = 'run'): StatusError {
  const msg = errorText(err);
  let code = 125;
  if (
    msg.includes('executable file not found') ||
    msg.includes('no such file or directory') ||
    msg.includes('system cannot find the file specified')
  ) {
    code = 127;
  } else if (msg.includes('permission denied') || msg.includes('is a directory')) {
    code = 126;
  }
  return new StatusError(withHelp(err, bin, command), code, { cause: err });
}
