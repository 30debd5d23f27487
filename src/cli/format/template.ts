/**
 * cli/format/template: Go's text/template as `--format` users write it —
 * fields (`.A.B`, `$v.A`), variables (`$x := …`, `$i, $e := range …`),
 * `if`/`else if`/`else`, `range` (with `else`, `break`, `continue`), `with`,
 * parenthesised pipelines, pipes, comments, `{{-`/`-}}` trimming, and the
 * functions of Go's builtins plus the docker CLI's (json, join, split, title,
 * lower, upper, pad, truncate). Values print as Go's %v would. `define`,
 * `template` and `block` are refused with a parse error, never guessed at.
 * Pure.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Value = unknown;

/** Go's %v for decoded JSON values. */
export function goPrint(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => goPrint(x)).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goPrint(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Go's notion of "true": not false, 0, nil, or an empty string, slice or map. */
function truth(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

// ---- lexing ----------------------------------------------------------------------

type Tok =
  | { k: 'field'; path: string[] } // .A.B (or "." alone: path [])
  | { k: 'var'; name: string; path: string[] } // $x.A.B ; "$" alone is name ""
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'bool'; v: boolean }
  | { k: 'nil' }
  | { k: 'ident'; name: string }
  | { k: 'pipe' }
  | { k: 'lparen' }
  | { k: 'rparen'; path: string[] } // ")" and any ".A.B" right after it
  | { k: 'declare' } // :=
  | { k: 'assign' } // =
  | { k: 'comma' };

function lexAction(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const fieldChain = (): string[] => {
    const path: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_]\w*)/.exec(src.slice(i)) as RegExpExecArray;
      path.push(m[1] as string);
      i += m[0].length;
    }
    return path;
  };
  while (i < src.length) {
    const ch = src[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '|') {
      out.push({ k: 'pipe' });
      i++;
    } else if (ch === '(') {
      out.push({ k: 'lparen' });
      i++;
    } else if (ch === ')') {
      i++;
      out.push({ k: 'rparen', path: fieldChain() });
    } else if (ch === ',') {
      out.push({ k: 'comma' });
      i++;
    } else if (src.startsWith(':=', i)) {
      out.push({ k: 'declare' });
      i += 2;
    } else if (ch === '=') {
      out.push({ k: 'assign' });
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1] as string;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
          j += 2;
        } else {
          s += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      out.push({ k: 'str', v: s });
      i = j + 1;
    } else if (ch === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      out.push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (ch === "'") {
      const m = /^'(\\.|[^'\\])'/.exec(src.slice(i));
      if (!m) throw new TemplateError('malformed character constant');
      const c = (m[1] as string).length === 2 ? ((m[1] as string)[1] as string) : (m[1] as string);
      out.push({ k: 'num', v: c.codePointAt(0) as number });
      i += m[0].length;
    } else if (ch === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) out.push({ k: 'field', path: fieldChain() });
      else if (/\d/.test(src[i + 1] ?? '')) {
        const m = /^\.\d+/.exec(src.slice(i)) as RegExpExecArray;
        out.push({ k: 'num', v: Number(m[0]) });
        i += m[0].length;
      } else {
        out.push({ k: 'field', path: [] });
        i++;
      }
    } else if (ch === '$') {
      const m = /^\$(\w*)/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      out.push({ k: 'var', name: m[1] as string, path: fieldChain() });
    } else if (/[-+\d]/.test(ch)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?)/.exec(src.slice(i));
      if (!m) throw new TemplateError(`bad number syntax: ${JSON.stringify(src.slice(i, i + 8))}`);
      out.push({ k: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_]\w*/.exec(src.slice(i)) as RegExpExecArray;
      const w = m[0];
      i += w.length;
      if (w === 'true' || w === 'false') out.push({ k: 'bool', v: w === 'true' });
      else if (w === 'nil') out.push({ k: 'nil' });
      else out.push({ k: 'ident', name: w });
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(ch)} in command`);
    }
  }
  return out;
}

// ---- parsing ---------------------------------------------------------------------

type Operand =
  | { t: 'field'; path: string[] }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'lit'; v: Value }
  | { t: 'fn'; name: string }
  | { t: 'sub'; pipe: Pipeline; path: string[] };

interface Pipeline {
  decl: string[];
  /** `=` rather than `:=`: assigns variables already declared. */
  assign: boolean;
  cmds: Operand[][];
}

type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; alt: Node[] }
  | { t: 'range'; pipe: Pipeline; body: Node[]; alt: Node[] }
  | { t: 'break' | 'continue' };

class TokenStream {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  next(): Tok | undefined {
    return this.toks[this.i++];
  }
}

function parsePipeline(ts: TokenStream, inParens: boolean): Pipeline {
  const p: Pipeline = { decl: [], assign: false, cmds: [] };
  // Declarations: `$x :=`, `$i, $e :=`, `$x =`.
  const save = ts.i;
  const vars: string[] = [];
  for (;;) {
    const t = ts.peek();
    if (t?.k !== 'var' || t.path.length > 0) break;
    ts.next();
    vars.push(t.name);
    const sep = ts.peek();
    if (sep?.k === 'comma' && vars.length === 1) {
      ts.next();
      continue;
    }
    if (sep?.k === 'declare' || sep?.k === 'assign') {
      ts.next();
      p.decl = vars;
      p.assign = sep.k === 'assign';
    }
    break;
  }
  if (p.decl.length === 0) ts.i = save;
  let cmd: Operand[] = [];
  for (;;) {
    const t = ts.peek();
    if (t === undefined || t.k === 'rparen') {
      if (t?.k === 'rparen' && !inParens) throw new TemplateError('unexpected right paren');
      break;
    }
    ts.next();
    switch (t.k) {
      case 'pipe':
        if (cmd.length === 0) throw new TemplateError('missing command in pipeline');
        p.cmds.push(cmd);
        cmd = [];
        break;
      case 'field':
        cmd.push({ t: 'field', path: t.path });
        break;
      case 'var':
        cmd.push({ t: 'var', name: t.name, path: t.path });
        break;
      case 'str':
      case 'num':
      case 'bool':
        cmd.push({ t: 'lit', v: t.v });
        break;
      case 'nil':
        cmd.push({ t: 'lit', v: null });
        break;
      case 'ident':
        cmd.push({ t: 'fn', name: t.name });
        break;
      case 'lparen': {
        const sub = parsePipeline(ts, true);
        const close = ts.next();
        if (close?.k !== 'rparen') throw new TemplateError('unclosed left paren');
        cmd.push({ t: 'sub', pipe: sub, path: close.path });
        break;
      }
      default:
        throw new TemplateError(`unexpected ${t.k} in operand`);
    }
  }
  if (cmd.length > 0) p.cmds.push(cmd);
  if (p.cmds.length === 0) throw new TemplateError('missing value for command');
  return p;
}

function parsePipelineText(src: string): Pipeline {
  const ts = new TokenStream(lexAction(src));
  const p = parsePipeline(ts, false);
  if (ts.peek() !== undefined) throw new TemplateError('unexpected token after pipeline');
  return p;
}

interface RawAction {
  text: string; // the literal text before the action (already trimmed as markers ask)
  body: string | null; // null at the end of the template
}

function splitTemplate(tmpl: string): RawAction[] {
  const out: RawAction[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = tmpl.indexOf('{{', i);
    let text = open < 0 ? tmpl.slice(i) : tmpl.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ text, body: null });
      return out;
    }
    let start = open + 2;
    if (tmpl[start] === '-' && /\s/.test(tmpl[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    // A comment may contain "}}"-free text only up to "*/}}".
    let close: number;
    const rest = tmpl.slice(start).replace(/^\s*/, '');
    if (rest.startsWith('/*')) {
      const endComment = tmpl.indexOf('*/', start);
      if (endComment < 0) throw new TemplateError('unclosed comment');
      close = tmpl.indexOf('}}', endComment + 2);
    } else {
      close = findClose(tmpl, start);
    }
    if (close < 0) throw new TemplateError('unclosed action');
    let end = close;
    trimNext = false;
    if (tmpl[close - 1] === '-' && /\s/.test(tmpl[close - 2] ?? '')) {
      end = close - 1;
      trimNext = true;
    }
    out.push({ text, body: tmpl.slice(start, end).trim() });
    i = close + 2;
  }
}

/** The "}}" that closes the action starting at `from`, skipping quoted strings. */
function findClose(s: string, from: number): number {
  let i = from;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '"') {
      i++;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      i++;
    } else if (ch === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) return -1;
      i = j + 1;
    } else if (ch === '}' && s[i + 1] === '}') {
      return i;
    } else {
      i++;
    }
  }
  return -1;
}

function parseTemplate(tmpl: string): Node[] {
  const raw = splitTemplate(tmpl);
  let k = 0;
  type Stop = 'end' | 'else';
  const list = (depth: number, inRange: boolean): { nodes: Node[]; stop: Stop | null; elseBody: string } => {
    const nodes: Node[] = [];
    while (k < raw.length) {
      const r = raw[k++] as RawAction;
      if (r.text !== '') nodes.push({ t: 'text', s: r.text });
      if (r.body === null) {
        if (depth > 0) throw new TemplateError('unexpected EOF');
        return { nodes, stop: null, elseBody: '' };
      }
      const body = r.body;
      if (body.startsWith('/*')) continue;
      const word = /^[A-Za-z_]\w*/.exec(body)?.[0] ?? '';
      const rest = body.slice(word.length).trim();
      switch (word) {
        case 'end':
          if (depth === 0) throw new TemplateError('unexpected {{end}}');
          return { nodes, stop: 'end', elseBody: '' };
        case 'else':
          if (depth === 0) throw new TemplateError('unexpected {{else}}');
          return { nodes, stop: 'else', elseBody: rest };
        case 'if':
        case 'with':
        case 'range':
          nodes.push(control(word, rest, depth, inRange));
          break;
        case 'break':
        case 'continue':
          if (!inRange) throw new TemplateError(`{{${word}}} outside {{range}}`);
          nodes.push({ t: word });
          break;
        case 'define':
        case 'template':
        case 'block':
          throw new TemplateError(`"${word}" actions are not supported by berth`);
        default:
          nodes.push({ t: 'action', pipe: parsePipelineText(body) });
      }
    }
    if (depth > 0) throw new TemplateError('unexpected EOF');
    return { nodes, stop: null, elseBody: '' };
  };
  const control = (word: 'if' | 'with' | 'range', pipeText: string, depth: number, inRange: boolean): Node => {
    if (pipeText === '') throw new TemplateError(`missing value for ${word}`);
    const pipe = parsePipelineText(pipeText);
    const bodyInRange = word === 'range' ? true : inRange;
    const main = list(depth + 1, bodyInRange);
    let alt: Node[] = [];
    if (main.stop === 'else') {
      // `{{else if …}}` / `{{else with …}}` chain: the rest is a nested control ending at the shared {{end}}.
      const chained = /^(if|with)\b\s*(.*)$/s.exec(main.elseBody);
      if (chained) {
        alt = [control(chained[1] as 'if' | 'with', (chained[2] as string).trim(), depth, inRange)];
      } else {
        if (main.elseBody !== '') throw new TemplateError(`unexpected "${main.elseBody}" in else`);
        const e = list(depth + 1, inRange);
        if (e.stop !== 'end') throw new TemplateError('expected end; found else');
        alt = e.nodes;
      }
    }
    if (word === 'range') return { t: 'range', pipe, body: main.nodes, alt };
    return { t: word, pipe, body: main.nodes, alt };
  };
  const top = list(0, false);
  return top.nodes;
}

// ---- execution -------------------------------------------------------------------

class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

interface Scope {
  vars: Map<string, Value>[];
}

function lookupVar(scope: Scope, name: string): Value {
  for (let i = scope.vars.length - 1; i >= 0; i--) {
    const m = scope.vars[i] as Map<string, Value>;
    if (m.has(name)) return m.get(name);
  }
  throw new TemplateError(`undefined variable: $${name}`);
}

function setVar(scope: Scope, name: string, v: Value, declare: boolean): void {
  if (declare) {
    (scope.vars[scope.vars.length - 1] as Map<string, Value>).set(name, v);
    return;
  }
  for (let i = scope.vars.length - 1; i >= 0; i--) {
    const m = scope.vars[i] as Map<string, Value>;
    if (m.has(name)) {
      m.set(name, v);
      return;
    }
  }
  throw new TemplateError(`undefined variable: $${name}`);
}

function walk(v: Value, path: string[]): Value {
  let cur = v;
  for (const k of path) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof cur !== 'object' || Array.isArray(cur)) throw new TemplateError(`can't evaluate field ${k} in type ${goType(cur)}`);
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function goType(v: Value): string {
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v !== null && typeof v === 'object') return 'map[string]interface {}';
  return 'interface {}';
}

function lenOf(v: Value): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === 'object') return Object.keys(v).length;
  throw new TemplateError(`error calling len: len of type ${goType(v)}`);
}

function basicKind(v: Value): string {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || v === undefined) return 'nil';
  return 'complex';
}

function eqTwo(a: Value, b: Value): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'complex' || kb === 'complex') {
    if (ka === 'nil' || kb === 'nil') return false;
    throw new TemplateError('error calling eq: incompatible types for comparison');
  }
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka !== kb) throw new TemplateError('error calling eq: incompatible types for comparison');
  return a === b;
}

function compare(name: string, a: Value, b: Value): number {
  const ka = basicKind(a);
  if (ka !== basicKind(b) || (ka !== 'number' && ka !== 'string')) throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
  return (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
}

/** Go's fmt verbs as templates use them: %v %s %d %q %t %x %X %f %e %g %c %%, flags - + 0 space, width and precision. */
export function goSprintf(format: string, args: Value[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', widthText, precText, verb = 'v'] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const width = widthText === '*' ? Number(args[ai++]) : widthText !== undefined ? Number(widthText) : undefined;
    const prec = precText === '*' ? Number(args[ai++]) : precText !== undefined ? Number(precText) : undefined;
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[ai++];
    let s: string;
    switch (verb) {
      case 'v':
      case 's':
        s = goPrint(a);
        if (prec !== undefined && verb === 's') s = s.slice(0, prec);
        break;
      case 'q':
        s = JSON.stringify(goPrint(a));
        break;
      case 'd':
        s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goType(a)}=${goPrint(a)})`;
        if (flags.includes('+') && typeof a === 'number' && a >= 0) s = `+${s}`;
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${goType(a)}=${goPrint(a)})`;
        break;
      case 'x':
      case 'X':
        s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(goPrint(a)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec ?? 6) : `%!f(${goType(a)}=${goPrint(a)})`;
        break;
      case 'e':
        s = typeof a === 'number' ? a.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${goType(a)}=${goPrint(a)})`;
        break;
      case 'g':
        s = typeof a === 'number' ? String(prec !== undefined ? Number(a.toPrecision(prec)) : a) : `%!g(${goType(a)}=${goPrint(a)})`;
        break;
      case 'c':
        s = typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${goType(a)}=${goPrint(a)})`;
        break;
      default:
        s = `%!${verb}(${goType(a)}=${goPrint(a)})`;
    }
    if (width !== undefined && s.length < width) {
      if (flags.includes('-')) s = s.padEnd(width);
      else if (flags.includes('0') && /[dfFeExXg]/.test(verb)) s = s.startsWith('-') ? `-${s.slice(1).padStart(width - 1, '0')}` : s.padStart(width, '0');
      else s = s.padStart(width);
    }
    out += s;
  }
  out += format.slice(last);
  if (ai < args.length) out += `%!(EXTRA ${args.slice(ai).map((a) => `${goType(a)}=${goPrint(a)}`).join(', ')})`;
  return out;
}

type Fn = (args: Value[]) => Value;

const FUNCS: Record<string, Fn> = {
  // Go's builtins (and, or take the short-circuit path in evalCommand)
  not: ([a]) => !truth(a),
  len: ([a]) => lenOf(a),
  index: ([v, ...keys]) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) {
        if (typeof k !== 'number') throw new TemplateError(`error calling index: cannot index slice/array with type ${goType(k)}`);
        if (k < 0 || k >= cur.length) throw new TemplateError(`error calling index: index out of range: ${k}`);
        cur = cur[k];
      } else if (typeof cur === 'string') {
        if (typeof k !== 'number' || k < 0 || k >= cur.length) throw new TemplateError(`error calling index: index out of range: ${goPrint(k)}`);
        cur = cur.charCodeAt(k);
      } else if (cur !== null && typeof cur === 'object') {
        cur = (cur as Record<string, unknown>)[goPrint(k)];
      } else if (cur === null || cur === undefined) {
        throw new TemplateError('error calling index: index of untyped nil');
      } else {
        throw new TemplateError(`error calling index: can't index item of type ${goType(cur)}`);
      }
    }
    return cur;
  },
  slice: ([v, ...idx]) => {
    const n = (v as { length?: number } | null)?.length;
    if (typeof v !== 'string' && !Array.isArray(v)) throw new TemplateError(`error calling slice: can't slice item of type ${goType(v)}`);
    const from = idx[0] === undefined ? 0 : Number(idx[0]);
    const to = idx[1] === undefined ? (n as number) : Number(idx[1]);
    if (from < 0 || to < from || to > (n as number)) throw new TemplateError(`error calling slice: index out of range: ${to}`);
    return v.slice(from, to);
  },
  eq: ([a, ...bs]) => {
    if (bs.length === 0) throw new TemplateError('error calling eq: missing argument for comparison');
    return bs.some((b) => eqTwo(a, b));
  },
  ne: ([a, b]) => !eqTwo(a, b),
  lt: ([a, b]) => compare('lt', a, b) < 0,
  le: ([a, b]) => compare('le', a, b) <= 0,
  gt: ([a, b]) => compare('gt', a, b) > 0,
  ge: ([a, b]) => compare('ge', a, b) >= 0,
  print: (args) => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + goPrint(a)).join(''),
  println: (args) => `${args.map((a) => goPrint(a)).join(' ')}\n`,
  printf: ([f, ...args]) => goSprintf(goPrint(f), args),
  html: (args) => args.map((a) => goPrint(a)).join('').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] as string),
  urlquery: (args) => encodeURIComponent(args.map((a) => goPrint(a)).join('')),
  js: (args) => JSON.stringify(args.map((a) => goPrint(a)).join('')).slice(1, -1),
  // the docker CLI's additions (cli/templates)
  json: ([v]) => JSON.stringify(v === undefined ? null : v),
  split: ([s, sep]) => goPrint(s).split(goPrint(sep)),
  join: ([v, sep]) => (Array.isArray(v) ? v.map((x) => goPrint(x)).join(goPrint(sep)) : goPrint(v)),
  title: ([v]) => goPrint(v).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase()),
  lower: ([v]) => goPrint(v).toLowerCase(),
  upper: ([v]) => goPrint(v).toUpperCase(),
  pad: ([v, before, after]) => `${' '.repeat(Number(before) || 0)}${goPrint(v)}${' '.repeat(Number(after) || 0)}`,
  truncate: ([v, n]) => {
    const s = goPrint(v);
    const k = Number(n);
    return [...s].length > k ? [...s].slice(0, k).join('') : s;
  },
};

class Exec {
  out = '';
  constructor(
    private readonly root: Value,
    private readonly scope: Scope,
  ) {}

  run(nodes: Node[], dot: Value): void {
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          this.out += n.s;
          break;
        case 'action': {
          const v = this.pipeline(n.pipe, dot);
          if (n.pipe.decl.length === 0) this.out += goPrint(v);
          break;
        }
        case 'if':
        case 'with': {
          this.scope.vars.push(new Map());
          try {
            const v = this.pipeline(n.pipe, dot);
            if (truth(v)) this.run(n.body, n.t === 'with' ? v : dot);
            else this.run(n.alt, dot);
          } finally {
            this.scope.vars.pop();
          }
          break;
        }
        case 'range':
          this.range(n, dot);
          break;
        case 'break':
        case 'continue':
          throw new LoopSignal(n.t);
      }
    }
  }

  private range(n: Extract<Node, { t: 'range' }>, dot: Value): void {
    this.scope.vars.push(new Map());
    try {
      const pipe: Pipeline = { ...n.pipe, decl: [] };
      const v = this.pipeline(pipe, dot);
      let items: Array<[Value, Value]>;
      if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
      else if (v !== null && typeof v === 'object')
        items = Object.keys(v)
          .sort()
          .map((k) => [k, (v as Record<string, unknown>)[k]]);
      else if (typeof v === 'number' && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
      else if (v === null || v === undefined) items = [];
      else throw new TemplateError(`range can't iterate over ${goPrint(v)}`);
      if (items.length === 0) {
        this.run(n.alt, dot);
        return;
      }
      for (const [key, elem] of items) {
        this.scope.vars.push(new Map());
        try {
          if (n.pipe.decl.length === 1) setVar(this.scope, n.pipe.decl[0] as string, elem, true);
          if (n.pipe.decl.length === 2) {
            setVar(this.scope, n.pipe.decl[0] as string, key, true);
            setVar(this.scope, n.pipe.decl[1] as string, elem, true);
          }
          this.run(n.body, elem);
        } catch (e) {
          if (!(e instanceof LoopSignal)) throw e;
          if (e.kind === 'break') break;
        } finally {
          this.scope.vars.pop();
        }
      }
    } finally {
      this.scope.vars.pop();
    }
  }

  pipeline(p: Pipeline, dot: Value): Value {
    let prev: Value;
    let have = false;
    for (const cmd of p.cmds) {
      prev = this.command(cmd, dot, have ? [prev] : []);
      have = true;
    }
    if (p.decl.length > 0) {
      if (p.decl.length > 1) throw new TemplateError('too many declarations in command');
      setVar(this.scope, p.decl[0] as string, prev, !p.assign);
    }
    return prev;
  }

  private operand(o: Operand, dot: Value): Value {
    switch (o.t) {
      case 'field':
        return walk(dot, o.path);
      case 'var':
        return walk(o.name === '' ? this.root : lookupVar(this.scope, o.name), o.path);
      case 'lit':
        return o.v;
      case 'sub':
        return walk(this.pipeline(o.pipe, dot), o.path);
      case 'fn':
        throw new TemplateError(`function "${o.name}" used as an argument without being called`);
    }
  }

  private command(cmd: Operand[], dot: Value, piped: Value[]): Value {
    const head = cmd[0] as Operand;
    if (head.t !== 'fn') {
      if (cmd.length > 1 || piped.length > 0) throw new TemplateError(`can't give argument to non-function ${describe(head)}`);
      return this.operand(head, dot);
    }
    const rest = cmd.slice(1);
    // A function name as an argument is a call with no arguments (`{{len (index . 0)}}` aside, Go allows `eq .A nil`).
    const argOf = (o: Operand): Value => (o.t === 'fn' ? this.call(o.name, [], dot) : this.operand(o, dot));
    if (head.name === 'and' || head.name === 'or') {
      const ops: Array<() => Value> = [...rest.map((o) => () => argOf(o)), ...piped.map((v) => () => v)];
      if (ops.length === 0) throw new TemplateError(`wrong number of args for ${head.name}: want at least 1 got 0`);
      let v: Value;
      for (const f of ops) {
        v = f();
        if (head.name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    return this.call(head.name, [...rest.map(argOf), ...piped], dot);
  }

  private call(name: string, args: Value[], _dot: Value): Value {
    const fn = FUNCS[name];
    if (fn === undefined) throw new TemplateError(`function "${name}" not defined`);
    return fn(args);
  }
}

function describe(o: Operand): string {
  if (o.t === 'field') return `.${o.path.join('.')}`;
  if (o.t === 'var') return `$${o.name}${o.path.map((p) => `.${p}`).join('')}`;
  if (o.t === 'lit') return goPrint(o.v);
  return '(…)';
}

/** Parses `tmpl`; throws TemplateError("template parsing error: …") on bad syntax. */
export function parseFormat(tmpl: string): (data: Value) => string {
  let nodes: Node[];
  try {
    nodes = parseTemplate(tmpl);
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: template: :1: ${e.message}`);
    throw e;
  }
  return (data: Value): string => {
    const x = new Exec(data, { vars: [new Map()] });
    try {
      x.run(nodes, data);
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`template: :1: executing "" at <…>: ${e.message}`);
      throw e;
    }
    return x.out;
  };
}

/** Renders `tmpl` against `data` (parse, then execute). */
export function renderTemplate(tmpl: string, data: Value): string {
  return parseFormat(tmpl)(data);
}
