/**
 * build/dockerfile/lineParser: BuildKit's low-level Dockerfile parser
 * (frontend/dockerfile/parser: parser.go, line_parsers.go, split_command.go,
 * directives.go) — text → one untyped node per instruction. It owns parser
 * directives (`# syntax=`, `# escape=`, `# check=`), the byte-order mark,
 * comments, line continuations (comment and empty lines inside them skipped,
 * the latter with BuildKit's warning), `--flag` extraction, each instruction's
 * argument splitting (JSON or shell form, `k=v` pairs, words) and heredoc
 * bodies. It never validates instructions (parser.ts does) and never expands
 * variables (the builder does, with shellLex).
 */
import { goQuote, goTrimLeft, goTrimSpace, isGoSpace } from './goText.js';
import { ShellLex, type EscapeToken } from './shellLex.js';

/** A parse failure at lines `start`..`end` (1-based), with BuildKit's message. */
export class LineParseError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }
}

/** A heredoc as the parser reads it: the body exactly as written (no tabs stripped). */
export interface RawHeredoc {
  name: string;
  fileDescriptor: number;
  expand: boolean;
  chomp: boolean;
  content: string;
}

/**
 * One argument: a plain value, or (ONBUILD only) a nested instruction.
 * Mirrors BuildKit's Node.Next chain flattened into an array.
 */
export type NodeArg = { value: string } | { child: Node };

/** One instruction as parsed, before typing: BuildKit's parser.Node. */
export interface Node {
  /** The instruction word as written (`RUN`, `run`, `Foo`). */
  value: string;
  /** The whole instruction line, continuations joined, comments dropped. */
  original: string;
  /** `--x=y` words before the arguments, quotes and escapes removed. */
  flags: string[];
  args: NodeArg[];
  /** Set for JSON (exec) form. */
  json: boolean;
  heredocs: RawHeredoc[];
  startLine: number;
  endLine: number;
}

export interface LineParseResult {
  nodes: Node[];
  escape: EscapeToken;
  /** Parser directives found at the top, by lower-cased name. */
  directives: Record<string, string>;
  /** BuildKit's parser warnings (empty continuation lines), as `[WARNING]:` texts. */
  warnings: string[];
}

const reWhitespace = /[\t\v\f\r ]+/;
const reWhitespaceAll = /[\t\v\f\r ]+/g;
const reHeredoc = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
// Go's \s is [\t\n\f\r ] and its `.` matches anything but \n.
const reDirective = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const validDirectives = new Set(['syntax', 'escape', 'check']);
const heredocInstructions = new Set(['add', 'copy', 'run']);

/** The longest line bufio.Scanner accepts (bytes, line ending excluded). */
const maxLineBytes = 64 * 1024 - 1;

/** Go's regexp.Split(s, n) for BuildKit's whitespace pattern. */
function splitWhitespace(s: string, n: number): string[] {
  if (n === 2) {
    const m = reWhitespace.exec(s);
    return m ? [s.slice(0, m.index), s.slice(m.index + m[0].length)] : [s];
  }
  return s.split(reWhitespaceAll);
}

/** BuildKit's `directives`: the escape token and the continuation pattern that follows it. */
class Directives {
  escape: EscapeToken = '\\';
  continuation = Directives.continuationFor('\\');
  readonly found: Record<string, string> = {};
  private done = false;
  private readonly seen = new Set<string>();

  static continuationFor(token: EscapeToken): RegExp {
    // The token is a continuation when last on the line (trailing blanks
    // allowed) unless an escape token precedes it; or alone on its line.
    const t = token === '\\' ? '\\\\' : '`';
    return new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`);
  }

  /** DirectiveParser.ParseLine: directives only in the leading run of `#` lines. */
  possibleDirective(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = reDirective.exec(goTrimLeft(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (m === null || key === undefined || !validDirectives.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2] ?? '';
    this.found[key] = value;
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new Error(`invalid escape token '${value}' does not match \` or \\`);
      }
      this.escape = value;
      this.continuation = Directives.continuationFor(value);
    }
    return true;
  }
}

function isComment(line: string): boolean {
  return goTrimLeft(line).startsWith('#');
}

/** bytes.TrimRight(line, "\r\n"). */
function trimNewline(line: string): string {
  let j = line.length;
  while (j > 0 && (line[j - 1] === '\r' || line[j - 1] === '\n')) j--;
  return line.slice(0, j);
}

/** BuildKit's parseWords: split on whitespace, keeping quotes and escapes for later expansion. */
export function parseWords(rest: string, escape: EscapeToken): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let sb = '';
  let ch = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    if (pos !== chars.length) ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || sb.length > 0) words.push(sb);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (blankOK || sb.length > 0) words.push(sb);
        sb = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the very end is dropped
        // Outside quotes the escape and the next character both stay, even a quote.
        sb += ch;
        pos++;
        ch = chars[pos] ?? '';
      }
      sb += ch;
      continue;
    }
    // Inside quotes; the escape token is ordinary inside single quotes.
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      sb += ch;
      ch = chars[pos] ?? '';
    }
    sb += ch;
  }
  return words;
}

/** BuildKit's extractBuilderFlags: leading `--` words (quotes and escapes removed), then the rest. */
function extractBuilderFlags(line: string, escape: EscapeToken): [string, string[]] {
  const chars = Array.from(line);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let sb = '';
  let quote = '';
  let blankOK = false;
  let ch = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    if (pos !== chars.length) ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch)) continue;
      // Only words starting with -- are flags.
      if (ch !== '-' || pos + 1 === chars.length || chars[pos + 1] !== '-') {
        return [chars.slice(pos).join(''), words];
      }
      phase = 'word';
    }
    if (pos === chars.length) {
      if (sb !== '--' && (blankOK || sb.length > 0)) words.push(sb);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (sb === '--') return [chars.slice(pos).join(''), words];
        if (blankOK || sb.length > 0) words.push(sb);
        sb = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        pos++;
        ch = chars[pos] ?? '';
      }
      sb += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = chars[pos] ?? '';
    }
    sb += ch;
  }
  return ['', words];
}

class NotStringArrayError extends Error {
  constructor() {
    super('when using JSON array syntax, arrays must be comprised of strings only');
  }
}

/** parseJSON: a JSON array of strings, or undefined when the text is not valid JSON. */
function parseJSON(rest: string): string[] | undefined {
  const text = goTrimLeft(rest);
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: string[] = [];
  for (const v of parsed as unknown[]) {
    if (typeof v !== 'string') throw new NotStringArrayError();
    out.push(v);
  }
  return out;
}

interface Parsed {
  args: NodeArg[];
  json: boolean;
}

const values = (list: string[]): NodeArg[] => list.map((value) => ({ value }));
const shell = (args: NodeArg[]): Parsed => ({ args, json: false });

function parseStringsWhitespaceDelimited(rest: string): Parsed {
  return shell(rest === '' ? [] : values(splitWhitespace(rest, -1)));
}

function parseString(rest: string): Parsed {
  return shell(rest === '' ? [] : [{ value: rest }]);
}

/** CMD/ENTRYPOINT/RUN/SHELL: JSON when it parses as a string array, else the text as one shell-form argument. */
function parseMaybeJSON(rest: string): Parsed {
  if (rest === '') return shell([]);
  const json = parseJSON(rest);
  if (json !== undefined) return { args: values(json), json: true };
  return shell([{ value: rest }]);
}

/** ADD/COPY/VOLUME: JSON, else whitespace-separated words. */
function parseMaybeJSONToList(rest: string): Parsed {
  const json = parseJSON(rest);
  if (json !== undefined) return { args: values(json), json: true };
  return parseStringsWhitespaceDelimited(rest);
}

/** ENV/LABEL: `k=v …`, or the legacy `k v` with everything after the first blank as the value. */
function parseNameVal(rest: string, key: string, escape: EscapeToken): Parsed {
  const words = parseWords(rest, escape);
  if (words.length === 0) return shell([]);
  if (!(words[0] ?? '').includes('=')) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    return shell(values([parts[0] ?? '', parts[1] ?? '', '']));
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    out.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return shell(values(out));
}

/** HEALTHCHECK: a type word (`CMD`, `NONE`), then the command as for CMD. */
function parseHealthConfig(rest: string): Parsed {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep] ?? '')) sep++;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next] ?? '')) next++;
  if (sep === 0) return shell([]);
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [{ value: rest.slice(0, sep) }, ...cmd.args], json: cmd.json };
}

type LineParser = (rest: string, escape: EscapeToken) => Parsed;

const dispatch: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: (rest, escape) => shell(values(parseWords(rest, escape))),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, escape) => parseNameVal(rest, 'ENV', escape),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: (rest, escape) => parseNameVal(rest, 'LABEL', escape),
  maintainer: parseString,
  onbuild: (rest, escape) => (rest === '' ? shell([]) : shell([{ child: nodeFromLine(rest, escape) }])),
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

/** newNodeFromLine: split off the instruction word and flags, then parse the arguments its way. */
export function nodeFromLine(line: string, escape: EscapeToken): Node {
  const cmdline = splitWhitespace(goTrimSpace(line), 2);
  const cmd = cmdline[0] ?? '';
  let flags: string[] = [];
  let rest = '';
  if (cmdline.length === 2) [rest, flags] = extractBuilderFlags(cmdline[1] ?? '', escape);
  rest = goTrimSpace(rest);
  // Unknown instructions keep no arguments; parser.ts reports them.
  const fn = Object.prototype.hasOwnProperty.call(dispatch, cmd.toLowerCase()) ? dispatch[cmd.toLowerCase()] : undefined;
  const parsed = fn ? fn(rest, escape) : shell([]);
  return {
    value: cmd,
    original: line,
    flags,
    args: parsed.args,
    json: parsed.json,
    heredocs: [],
    startLine: 0,
    endLine: 0,
  };
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  const first = n.args[0];
  if (n.value.toLowerCase() === 'onbuild' && first !== undefined && 'child' in first) n = first.child;
  return heredocInstructions.has(n.value.toLowerCase()) && !n.json;
}

/**
 * BuildKit's ParseHeredoc: the heredoc a word like `<<EOF`, `<<-"EOF"`,
 * `3<<EOF` introduces, or undefined if the word is not one. Throws on an
 * unbalanced quote in the delimiter.
 */
export function parseHeredocWordStrict(word: string): Omit<RawHeredoc, 'content'> | undefined {
  const m = reHeredoc.exec(word);
  if (!m) return undefined;
  const fd = Number.parseInt(m[1] ?? '', 10);
  const chomp = m[2] === '-';
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  // Lex the delimiter with and without quotes: a difference means some part
  // was quoted, and a quoted delimiter turns expansion off.
  const words = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, emptyEnv);
  if (words.length !== 1) return undefined;
  const rawWords = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, emptyEnv);
  if (rawWords.length !== words.length) {
    throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const name = words[0] ?? '';
  const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
  return {
    name,
    fileDescriptor: Number.isFinite(fd) ? fd : 0,
    expand: quotes(name) === quotes(rawWords[0] ?? ''),
    chomp,
  };
}

/**
 * BuildKit's MustParseHeredoc: like parseHeredocWordStrict, but a malformed
 * delimiter (`<<'EOF`) is simply not a heredoc. What the builder calls on
 * COPY sources and RUN's first word.
 */
export function parseHeredocWord(word: string): Omit<RawHeredoc, 'content'> | undefined {
  try {
    return parseHeredocWordStrict(word);
  } catch {
    return undefined;
  }
}

const emptyEnv: ReadonlyMap<string, string> = new Map();
const heredocLineLex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });

/** The heredocs a line opens, in order (words that fail to lex open none). */
function heredocsFromLine(line: string): Array<Omit<RawHeredoc, 'content'>> {
  let words: string[];
  try {
    words = heredocLineLex.processWords(line, emptyEnv);
  } catch {
    words = [];
  }
  const docs: Array<Omit<RawHeredoc, 'content'>> = [];
  for (const word of words) {
    const doc = parseHeredocWordStrict(word);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** bufio.Scanner over lines that keep their endings, with its 64 KiB line limit. */
class LineScanner {
  private readonly lines: string[];
  private index = 0;
  private tooLong = false;

  constructor(text: string) {
    this.lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  }

  /** The next line, or undefined at the end (or at a line over the limit). */
  scan(): string | undefined {
    if (this.tooLong) return undefined;
    const line = this.lines[this.index];
    if (line === undefined) return undefined;
    const content = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (content.length > maxLineBytes / 3 && Buffer.byteLength(content, 'utf8') > maxLineBytes) {
      this.tooLong = true;
      return undefined;
    }
    this.index++;
    return line;
  }

  error(): string | undefined {
    return this.tooLong ? `dockerfile line greater than max allowed size of ${maxLineBytes}` : undefined;
  }
}

/**
 * BuildKit's parser.Parse: the whole text → nodes with line ranges. Throws
 * LineParseError. `escape` is the token in force before any directive.
 */
export function parseLines(text: string, escape: EscapeToken = '\\'): LineParseResult {
  const d = new Directives();
  if (escape !== '\\') {
    d.escape = escape;
    d.continuation = Directives.continuationFor(escape);
  }
  const scanner = new LineScanner(text);
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let currentLine = 0;

  const processLine = (token: string, stripLeft: boolean, lineNo: number): string => {
    let t = trimNewline(token);
    if (stripLeft) t = goTrimLeft(t);
    try {
      d.possibleDirective(t);
    } catch (err) {
      throw new LineParseError((err as Error).message, lineNo, lineNo);
    }
    return isComment(t) ? '' : t;
  };
  const trimContinuation = (line: string): [string, boolean] => {
    if (d.continuation.test(line)) return [line.replace(d.continuation, '$1'), false];
    return [line, true];
  };

  for (let token = scanner.scan(); token !== undefined; token = scanner.scan()) {
    if (currentLine === 0 && token.startsWith('\ufeff')) token = token.slice(1);
    let line = processLine(token, true, currentLine + 1);
    currentLine++;
    const startLine = currentLine;
    let endOfLine: boolean;
    [line, endOfLine] = trimContinuation(line);
    if (endOfLine && line.length === 0) continue;
    let buf = line;
    let hasEmptyContinuationLine = false;
    while (!endOfLine) {
      const next = scanner.scan();
      if (next === undefined) break;
      let piece = processLine(next, false, currentLine + 1);
      currentLine++;
      if (isComment(next)) continue;
      if (goTrimLeft(trimNewline(piece)).length === 0) {
        hasEmptyContinuationLine = true;
        continue;
      }
      [piece, endOfLine] = trimContinuation(piece);
      buf += piece;
    }
    if (hasEmptyContinuationLine) warnings.push(`Empty continuation line found in: ${buf}`);

    let node: Node;
    try {
      node = nodeFromLine(buf, d.escape);
    } catch (err) {
      throw new LineParseError((err as Error).message, startLine, currentLine);
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      let docs: Array<Omit<RawHeredoc, 'content'>>;
      try {
        docs = heredocsFromLine(buf);
      } catch (err) {
        throw new LineParseError((err as Error).message, startLine, currentLine);
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        for (let body = scanner.scan(); body !== undefined; body = scanner.scan()) {
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) throw new LineParseError('unterminated heredoc', startLine, currentLine);
        node.heredocs.push({ ...doc, content });
      }
    }
    node.startLine = startLine;
    node.endLine = currentLine;
    nodes.push(node);
  }

  if (nodes.length === 0) throw new LineParseError('file with no instructions', Math.max(currentLine, 1), Math.max(currentLine, 1));
  const scanError = scanner.error();
  if (scanError !== undefined) throw new LineParseError(scanError, currentLine + 1, currentLine + 1);
  return { nodes, escape: d.escape, directives: d.found, warnings };
}

/** BuildKit's Node.Dump (the parser test-suite format), for tests and debugging. */
export function dumpNode(node: Node): string {
  let s = node.value.toLowerCase();
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(' ')}]`;
  for (const arg of node.args) {
    s += ' ';
    s += 'child' in arg ? `(${dumpNode(arg.child)})` : goQuote(arg.value);
  }
  return goTrimSpace(s);
}
