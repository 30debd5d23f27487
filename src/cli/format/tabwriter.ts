/**
 * cli/format/tabwriter: a port of Go's text/tabwriter (as vendored by the
 * docker CLI) for the aligned tables of `ps`, `images`, `version`. Cells end at
 * '\t'; a column's width is max(minwidth, widest cell + padding), computed per
 * block of consecutive lines that have that column; the last cell of a line is
 * not aligned. Widths count code points, like Go counts runes. Pure.
 */

export interface TabwriterOptions {
  minwidth: number;
  tabwidth: number;
  padding: number;
  padchar: string;
}

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

/** Docker's table settings (formatter.Context): minwidth 10, padding 3, spaces. */
export const DOCKER_TABLE: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' };

function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export class Tabwriter {
  private lines: Cell[][] = [[]];
  private cell = '';
  private out = '';
  private widths: number[] = [];

  constructor(private readonly opts: TabwriterOptions = DOCKER_TABLE) {}

  /** Buffers text; output appears on flush() (and at lines without a tab). */
  write(text: string): this {
    for (const ch of text) {
      if (ch === '\t' || ch === '\n') {
        const ncells = this.terminateCell(ch === '\t');
        if (ch === '\n') {
          this.lines.push([]);
          // A line with a single cell cannot affect later alignment: flush, as Go does.
          if (ncells === 1) this.flushLines();
        }
      } else {
        this.cell += ch;
      }
    }
    return this;
  }

  /** Formats everything buffered and returns all output produced so far. */
  flush(): string {
    if (this.cell.length > 0) this.terminateCell(false);
    this.flushLines();
    const out = this.out;
    this.out = '';
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1] as Cell[];
    line.push({ text: this.cell, width: textWidth(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private flushLines(): void {
    // The last line is the one being built; format only complete lines plus, at
    // flush(), a trailing partial line.
    const lines = this.lines;
    const last = lines[lines.length - 1] as Cell[];
    const complete = last.length === 0 ? lines.slice(0, -1) : lines;
    const trailingPartial = last.length !== 0;
    this.widths = [];
    this.format(complete, 0, complete.length, trailingPartial);
    this.lines = [[]];
  }

  private format(lines: Cell[][], line0: number, line1: number, trailingPartial: boolean): void {
    const column = this.widths.length;
    for (let i = line0; i < line1; i++) {
      const line = lines[i] as Cell[];
      if (column >= line.length - 1) continue;
      // Cell exists in this column: lines [line0, i) are already complete at this depth.
      this.writeLines(lines, line0, i, trailingPartial);
      line0 = i;
      let width = this.opts.minwidth;
      for (; i < line1; i++) {
        const l = lines[i] as Cell[];
        if (column >= l.length - 1) break;
        const c = l[column] as Cell;
        const w = c.width + this.opts.padding;
        if (w > width) width = w;
      }
      this.widths.push(width);
      this.format(lines, line0, i, trailingPartial);
      this.widths.pop();
      line0 = i;
    }
    this.writeLines(lines, line0, line1, trailingPartial);
  }

  private writeLines(lines: Cell[][], line0: number, line1: number, trailingPartial: boolean): void {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] as Cell[];
      line.forEach((c, j) => {
        this.out += c.text;
        if (j < this.widths.length) this.out += this.opts.padchar.repeat(Math.max(0, (this.widths[j] as number) - c.width));
      });
      if (!(trailingPartial && i === lines.length - 1)) this.out += '\n';
    }
  }
}

/** Formats rows (each an array of cells) as docker's tables do; ends with a newline. */
export function formatTable(rows: string[][], opts: TabwriterOptions = DOCKER_TABLE): string {
  const tw = new Tabwriter(opts);
  for (const row of rows) tw.write(`${row.join('\t')}\n`);
  return tw.flush();
}
