/**
 * cli/context: what every command gets — the daemon client (created on first
 * use), the standard streams and the environment. Commands write only through
 * these, so tests can run a command against in-memory streams.
 */
import type { Readable, Writable } from 'node:stream';
import { EngineClient } from '../client/engineClient.js';
import type { DaemonHost } from '../client/host.js';
import type { ClientTls } from '../client/tlsConfig.js';

export const BIN_NAME = 'berth';
export const CLI_VERSION = '0.1.0';

/** A terminal-capable input (process.stdin when it is a TTY). */
export interface InStream extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** An output stream that may be a terminal (process.stdout). */
export interface OutStream extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface CliContextOptions {
  host: DaemonHost;
  /** TLS for a tcp:// host (null: plain). */
  tls?: ClientTls | null;
  stdin?: InStream;
  stdout?: OutStream;
  stderr?: OutStream;
  env?: NodeJS.ProcessEnv;
  debug?: boolean;
  apiVersion?: string;
}

export class CliContext {
  readonly bin = BIN_NAME;
  readonly host: DaemonHost;
  readonly tls: ClientTls | null;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: NodeJS.ProcessEnv;
  readonly debug: boolean;
  private readonly apiVersion: string | undefined;
  private engine: EngineClient | undefined;
  private stdinStream: InStream | undefined;

  constructor(opts: CliContextOptions) {
    this.host = opts.host;
    this.tls = opts.tls ?? null;
    this.stdinStream = opts.stdin;
    this.stdout = opts.stdout ?? process.stdout;
    this.stderr = opts.stderr ?? process.stderr;
    this.env = opts.env ?? process.env;
    this.debug = opts.debug ?? false;
    this.apiVersion = opts.apiVersion;
  }

  /**
   * Standard input, made on first use: node builds process.stdin when it is first read
   * (a file or pipe loads the fs stream classes, ~2 ms), which most commands never need.
   */
  get stdin(): InStream {
    this.stdinStream ??= process.stdin;
    return this.stdinStream;
  }

  /** The daemon client, created on first use. */
  get client(): EngineClient {
    if (this.engine === undefined) {
      const o: ConstructorParameters<typeof EngineClient>[0] = {
        host: this.host,
        tls: this.tls,
        userAgent: `Berth-Client/${CLI_VERSION} (linux)`,
      };
      if (this.apiVersion !== undefined) o.apiVersion = this.apiVersion;
      this.engine = new EngineClient(o);
    }
    return this.engine;
  }

  /** Whether a client was ever made (so main knows whether to close it). */
  get hasClient(): boolean {
    return this.engine !== undefined;
  }

  out(text: string): void {
    this.stdout.write(text);
  }

  err(text: string): void {
    this.stderr.write(text);
  }

  /** Terminal size of stdout as docker's GetTtySize: [height, width], or [0, 0]. */
  ttySize(): [number, number] {
    if (!this.stdout.isTTY) return [0, 0];
    return [this.stdout.rows ?? 0, this.stdout.columns ?? 0];
  }
}
