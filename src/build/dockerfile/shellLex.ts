/**
 * build/dockerfile/shellLex: BuildKit's shell-word lexer (frontend/dockerfile/
 * shell/lex.go) — the variable expansion and word splitting a Dockerfile's
 * arguments get: `$V`, `${V}`, `${V:-d}` `${V-d}` `${V:+a}` `${V+a}`
 * `${V:?msg}` `${V?msg}`, `${V#p}` `${V##p}` `${V%p}` `${V%%p}`,
 * `${V/p/r}` `${V//p/r}`, single and double quotes, and the escape token
 * (`\` or a backtick). It reports which variables a word used (found or not),
 * which the builder needs for build-arg cache keys and the undefined-ARG check.
 *
 * Pure string work: it never reads the process environment and never runs a
 * shell. Expansion errors are InvalidArgumentErrors worded as BuildKit's
 * (`failed to process "${X?}": X: is not allowed to be unset`).
 *
 * One deliberate difference: since 2024 BuildKit shares one word buffer between
 * a `${…}` modifier and the word around it, so ProcessWords("a${X:-b}") splits
 * to ["b"]; berth gives ["ab"] as every earlier BuildKit did. Only EXPOSE and
 * heredoc detection split words, and neither meets the case in practice.
 */
import { InvalidArgumentError, messageOf } from '../../errdefs/errors.js';
import { isGoDigit, isGoLetter, isGoSpace, goQuote } from './goText.js';

export type EscapeToken = '\\' | '`';

/** Variables for expansion: a Map, or a plain object (own properties only). */
export type ShellEnv = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ShellLexOptions {
  /** Keep quote characters in the result (used to tell quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-d}`). */
  skipUnsetEnv?: boolean;
}

export interface ProcessWordResult {
  /** The expanded word, spaces kept (ProcessWord). */
  result: string;
  /** The expanded word split on unquoted whitespace (ProcessWords). */
  words: string[];
  /** Variables the word referenced that were set. */
  matched: Set<string>;
  /** Variables the word referenced that were not set. */
  unmatched: Set<string>;
}

const EOF = '';

/** A lexing failure inside one word; `process` wraps it with the word. */
class LexError extends Error {}

/** Builds the word list for ProcessWords: unquoted whitespace from expansion splits words. */
class Words {
  private buf = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isGoSpace(ch) && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else if (!isGoSpace(ch)) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  getWords(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

function isMap(env: ShellEnv): env is ReadonlyMap<string, string> {
  return typeof (env as { get?: unknown }).get === 'function' && typeof (env as { has?: unknown }).has === 'function';
}

function lookup(env: ShellEnv, name: string): string | undefined {
  if (isMap(env)) return env.get(name);
  const rec = env;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}

function isSpecialParam(ch: string): boolean {
  return '@*#?-$!0'.includes(ch) && ch.length === 1;
}

function isHeredocSpace(ch: string): boolean {
  return ch === '\t' || ch === '\r' || ch === ' ';
}

/**
 * BuildKit's convertShellPatternToRegex: `*` any run, `?` one character,
 * `\` escapes `*` `?` `\` (and is dropped before `}` and `/`); no brackets.
 * Go's `.` stops at a newline, hence `[^\n]`.
 */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, flags: string): RegExp {
  const chars = Array.from(pattern);
  if (chars[0] === '\ufeff') chars.shift();
  let out = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i] ?? '';
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '[^\\n]';
        continue;
      case '\\': {
        const peek = chars[i + 1];
        if (peek === '}' || peek === '/') continue;
        out += '\\';
        i++;
        tok = chars[i] ?? '\ufffd';
        if (tok !== '*' && tok !== '?' && tok !== '\\') throw new LexError(`invalid escape '\\${tok}'`);
        break;
      }
      case '[':
      case ']':
      case '{':
      case '}':
      case '.':
      case '+':
      case '(':
      case ')':
      case '|':
      case '^':
      case '$':
        out += '\\';
        break;
    }
    out += tok;
  }
  return new RegExp(out, flags);
}

/** Reverse a pattern without reversing its escapes (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i] ?? '';
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1] ?? '';
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverseString = (s: string): string => Array.from(s).reverse().join('');

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegex(pattern, greedy, true, 'u');
  } catch (err) {
    throw new LexError(`invalid pattern (${pattern}) in substitution: ${messageOf(err)}`);
  }
  const m = re.exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Regular expressions cannot find the shortest rightmost match, so reverse
  // both and search leftmost (BuildKit does the same).
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** Go's regexp template expansion for a pattern without groups: `$$`, `$0`/`${0}`, other names empty. */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let t = template;
  for (;;) {
    const i = t.indexOf('$');
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    let s = t;
    const brace = s.startsWith('{');
    if (brace) s = s.slice(1);
    let n = 0;
    for (const ch of s) {
      if (!isGoLetter(ch) && !isGoDigit(ch) && ch !== '_') break;
      n += ch.length;
    }
    if (n === 0 || (brace && s[n] !== '}')) {
      out += '$';
      continue;
    }
    const name = s.slice(0, n);
    t = s.slice(brace ? n + 1 : n);
    if (name === '0') out += match;
  }
  return out + t;
}

/** Go's Regexp.ReplaceAllString: empty matches right after a match are skipped. */
function goReplaceAll(re: RegExp, value: string, replacement: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (!m) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += value.slice(lastMatchEnd, a0);
    if (a1 > lastMatchEnd || a0 === 0) out += expandTemplate(replacement, m[0]);
    lastMatchEnd = a1;
    const cp = value.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + value.slice(lastMatchEnd);
}

/** One word being lexed: the scanner position and what the word has used. */
class WordScanner {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly lex: ShellLex,
    private readonly env: ShellEnv,
    private readonly capture: boolean,
  ) {
    this.chars = Array.from(word);
    // text/scanner skips a byte-order mark at the very start.
    if (this.chars[0] === '\ufeff') this.pos = 1;
    this.rawEscapes = lex.rawEscapes;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos];
    if (ch === undefined) return EOF;
    this.pos++;
    return ch;
  }

  run(): [string, string[]] {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private getEnv(name: string): [string, boolean] {
    const v = lookup(this.env, name);
    if (v !== undefined) {
      if (this.capture) this.matched.add(name);
      return [v, true];
    }
    if (this.capture) this.unmatched.add(name);
    return ['', false];
  }

  /** Lex up to `stopChar` (consumed) or the end; throws if `stopChar` never comes. */
  private processStopOn(stopChar: string, rawEscapes: boolean): [string, string[]] {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stopChar !== EOF && ch === stopChar) {
          this.next();
          return [result, words.getWords()];
        }
        const special =
          ch === '$' || ch === '<' || (!this.lex.skipProcessQuotes && (ch === "'" || ch === '"'));
        if (special) {
          let tmp: string;
          if (ch === '$') tmp = this.processDollar();
          else if (ch === '<') tmp = this.processPossibleHeredoc();
          else if (ch === "'") tmp = this.processSingleQuote();
          else tmp = this.processDoubleQuote();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        ch = this.next();
        if (ch === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          // The escape token escapes the next character, except at the end.
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
      if (stopChar !== EOF) {
        throw new LexError(`unexpected end of statement while looking for matching ${stopChar}`);
      }
      return [result, words.getWords()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    let result = '';
    let ch = this.next();
    if (this.lex.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal except $, and the escape token before " $ or itself.
    let result = '';
    let ch = this.next();
    if (this.lex.rawQuotes) result += ch;
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        ch = this.next();
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      if (peek === '$') {
        result += this.processDollar();
        continue;
      }
      ch = this.next();
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.lex.escapeToken) ch = this.next();
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const [value, found] = this.getEnv(name);
      if (!found && this.lex.skipUnsetEnv) return '$' + name;
      return value;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go prints the EOF rune as U+FFFD in "unsupported modifier" errors.
    let chs = ch === EOF ? '\ufffd' : ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const [value, set] = this.getEnv(name);
        if (!set && this.lex.skipUnsetEnv) return `\${${name}}`;
        return value;
      }
      case ':':
      case '+':
      case '-':
      case '?':
      case '#':
      case '%': {
        if (ch === ':') {
          nullIsUnset = true;
          ch = this.next();
          chs += ch === EOF ? '\ufffd' : ch;
        }
        const rawEscapes = ch === '#' || ch === '%';
        if (nullIsUnset && rawEscapes) throw new LexError(`unsupported modifier (${chs}) in substitution`);
        let word: string;
        try {
          [word] = this.processStopOn('}', rawEscapes);
        } catch (err) {
          if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
          throw err;
        }
        const [value, set] = this.getEnv(name);
        if (this.lex.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
        switch (ch) {
          case '-':
            return !set || (nullIsUnset && value === '') ? word : value;
          case '+':
            return !set || (nullIsUnset && value === '') ? '' : word;
          case '?':
            if (!set) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
            if (nullIsUnset && value === '') {
              throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
            }
            return value;
          case '%':
          case '#': {
            // One %/# trims the shortest match, a doubled one the longest.
            let greedy = false;
            if (word.startsWith(ch)) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === '%' ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
          }
          default:
            throw new LexError(`unsupported modifier (${chs}) in substitution`);
        }
      }
      case '/': {
        const replaceAll = this.peek() === '/';
        if (replaceAll) this.next();
        let pattern: string;
        try {
          [pattern] = this.processStopOn('/', true);
        } catch (err) {
          if (this.peek() === EOF) throw new LexError("syntax error: missing '/' in ${}");
          throw err;
        }
        let replacement: string;
        try {
          [replacement] = this.processStopOn('}', true);
        } catch (err) {
          if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
          throw err;
        }
        const [value, set] = this.getEnv(name);
        if (this.lex.skipUnsetEnv && !set) return `\${${name}/${pattern}/${replacement}}`;
        let re: RegExp;
        try {
          re = shellPatternToRegex(pattern, true, false, replaceAll ? 'gu' : 'u');
        } catch (err) {
          throw new LexError(`invalid pattern (${pattern}) in substitution: ${messageOf(err)}`);
        }
        if (replaceAll) return goReplaceAll(re, value, replacement);
        const m = re.exec(value);
        return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
      }
      default:
        throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  /** A name: letters, digits, `_`; or all leading digits; or one special parameter. */
  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isGoDigit(ch)) {
        while (this.peek() !== EOF && isGoDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next();
      if (!isGoLetter(ch) && !isGoDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    // Whitespace between << and the delimiter stays in the same word.
    let space = '';
    while (isHeredocSpace(this.peek())) space += this.next();
    return '<<' + space;
  }
}

/**
 * A configured lexer (BuildKit's shell.Lex). Stateless between calls: one
 * instance may serve many words.
 */
export class ShellLex {
  readonly rawQuotes: boolean;
  readonly rawEscapes: boolean;
  readonly skipProcessQuotes: boolean;
  readonly skipUnsetEnv: boolean;

  constructor(
    readonly escapeToken: EscapeToken = '\\',
    opts: ShellLexOptions = {},
  ) {
    this.rawQuotes = opts.rawQuotes ?? false;
    this.rawEscapes = opts.rawEscapes ?? false;
    this.skipProcessQuotes = opts.skipProcessQuotes ?? false;
    this.skipUnsetEnv = opts.skipUnsetEnv ?? false;
  }

  /** ProcessWordWithMatches: expand `word`, keep its spaces, report the variables used. */
  processWord(word: string, env: ShellEnv): ProcessWordResult {
    return this.process(word, env, true);
  }

  /** ProcessWords: expand `word`, then split it on unquoted whitespace. */
  processWords(word: string, env: ShellEnv): string[] {
    return this.process(word, env, false).words;
  }

  private process(word: string, env: ShellEnv, capture: boolean): ProcessWordResult {
    const sw = new WordScanner(word, this, env, capture);
    try {
      const [result, words] = sw.run();
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (err) {
      if (err instanceof LexError) {
        throw new InvalidArgumentError(`failed to process ${goQuote(word)}: ${err.message}`);
      }
      throw err;
    }
  }
}

const lexers: Record<EscapeToken, ShellLex> = { '\\': new ShellLex('\\'), '`': new ShellLex('`') };

/** Expand one word as BuildKit's ProcessWord does (quotes removed, spaces kept). */
export function expandWord(word: string, env: ShellEnv, escape: EscapeToken = '\\'): string {
  return lexers[escape].processWord(word, env).result;
}

/** Expand and split one word as BuildKit's ProcessWords does (EXPOSE uses this). */
export function expandWords(word: string, env: ShellEnv, escape: EscapeToken = '\\'): string[] {
  return lexers[escape].processWords(word, env);
}

/**
 * Expand one word and report which variables it referenced: `matched` were
 * set, `unmatched` were not (BuildKit's ProcessWordWithMatches).
 */
export function processWord(word: string, env: ShellEnv, escape: EscapeToken = '\\'): ProcessWordResult {
  return lexers[escape].processWord(word, env);
}
