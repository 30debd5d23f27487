/**
 * build/output: what a build says, as Docker's legacy builder says it —
 * `stream` text (stdout), stderr text wrapped in Docker's red escape codes,
 * `aux` image IDs and pull progress — and the sequencer that lets stages run
 * in parallel while their output still reads in stage order: the earliest
 * unfinished stage streams live, later ones are held and flushed when their
 * turn comes. Knows nothing of HTTP: the route turns messages into JSON lines.
 */
import type { ProgressMessage } from '../images/progress.js';

export type BuildMessage =
  | { stream: string }
  | { aux: { ID: string } }
  | ProgressMessage;

export type MessageSink = (m: BuildMessage) => void;

/** What a build step writes to. */
export interface BuildOutput {
  /** Builder text (`Step 1/3 : …`, ` ---> …`) and a RUN's stdout. */
  out(text: string): void;
  /** A RUN's stderr: Docker's stderr formatter colours it red. */
  err(text: string): void;
  aux(id: string): void;
  progress(m: ProgressMessage): void;
}

export function outputTo(sink: MessageSink): BuildOutput {
  return {
    out: (text) => {
      if (text !== '') sink({ stream: text });
    },
    err: (text) => {
      if (text !== '') sink({ stream: `\u001b[91m${text}\u001b[0m` });
    },
    aux: (id) => sink({ aux: { ID: id } }),
    progress: (m) => sink(m),
  };
}

/**
 * Orders the output of stages that run at once. Stage slots are taken in
 * build order; slot i writes through as soon as slots 0…i-1 are closed.
 */
export class OutputSequencer {
  private readonly held: BuildMessage[][] = [];
  private readonly closed: boolean[] = [];
  private head = 0;

  constructor(private readonly sink: MessageSink) {}

  /** A writer for the next slot (call in build order). */
  slot(): { sink: MessageSink; close: () => void } {
    const i = this.held.length;
    this.held.push([]);
    this.closed.push(false);
    return {
      sink: (m) => {
        if (i === this.head) this.sink(m);
        else (this.held[i] as BuildMessage[]).push(m);
      },
      close: () => {
        this.closed[i] = true;
        this.advance();
      },
    };
  }

  private advance(): void {
    while (this.head < this.held.length && this.closed[this.head]) {
      this.head++;
      if (this.head < this.held.length) {
        const queued = this.held[this.head] as BuildMessage[];
        this.held[this.head] = [];
        for (const m of queued) this.sink(m);
      }
    }
  }

  /** Everything still held, in order (a failed build shows what the other stages said). */
  flushAll(): void {
    for (let i = this.head; i < this.held.length; i++) {
      const queued = this.held[i] as BuildMessage[];
      this.held[i] = [];
      for (const m of queued) this.sink(m);
    }
    this.head = this.held.length;
  }
}
