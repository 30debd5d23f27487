/**
 * cli/format/template: the small subset of Go text/template that `--format`
 * users type most — `{{.Field.Sub}}`, `{{json .X}}`, `{{index .Labels "k"}}`,
 * `{{join .Args " "}}`, `{{upper …}}`, `{{lower …}}`, `{{len …}}`, pipes, and
 * `{{-`/`-}}` trimming. Values print as Go's %v would. Anything else is a
 * parse error, never a wrong answer. Pure.
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
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
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

type Token = { kind: 'field'; path: string[] } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'ident'; name: string } | { kind: 'pipe' } | { kind: 'bool'; value: boolean };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '|') {
      out.push({ kind: 'pipe' });
      i++;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1] as string;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else {
          s += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new TemplateError('template: unterminated quoted string');
      out.push({ kind: 'string', value: s });
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('template: unterminated raw quoted string');
      out.push({ kind: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^[^\s|]+/.exec(src.slice(i)) as RegExpExecArray;
    const word = m[0];
    i += word.length;
    if (word.startsWith('.')) {
      out.push({ kind: 'field', path: word === '.' ? [] : word.slice(1).split('.') });
    } else if (/^-?\d+(\.\d+)?$/.test(word)) {
      out.push({ kind: 'number', value: Number(word) });
    } else if (word === 'true' || word === 'false') {
      out.push({ kind: 'bool', value: word === 'true' });
    } else if (/^[A-Za-z_]\w*$/.test(word)) {
      out.push({ kind: 'ident', name: word });
    } else {
      throw new TemplateError(`template: bad character in action: ${JSON.stringify(word)}`);
    }
  }
  return out;
}

function field(data: Value, path: string[]): Value {
  let v = data;
  for (const k of path) {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  json: (v) => JSON.stringify(v === undefined ? null : v),
  upper: (v) => goPrint(v).toUpperCase(),
  lower: (v) => goPrint(v).toLowerCase(),
  title: (v) => goPrint(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError('error calling len: len of type');
  },
  join: (v, sep) => (Array.isArray(v) ? v.map((x) => goPrint(x)).join(goPrint(sep)) : goPrint(v)),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
      else if (cur !== null && typeof cur === 'object') cur = (cur as Record<string, unknown>)[goPrint(k)];
      else return undefined;
    }
    return cur;
  },
  println: (...args) => `${args.map((a) => goPrint(a)).join(' ')}\n`,
  print: (...args) => args.map((a) => goPrint(a)).join(''),
};

function evalPipeline(tokens: Token[], data: Value): Value {
  const commands: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'pipe') commands.push([]);
    else (commands[commands.length - 1] as Token[]).push(t);
  }
  let prev: Value;
  let havePrev = false;
  for (const cmd of commands) {
    if (cmd.length === 0) throw new TemplateError('template: missing command in pipeline');
    const arg = (t: Token): Value => {
      switch (t.kind) {
        case 'field':
          return field(data, t.path);
        case 'string':
        case 'number':
        case 'bool':
          return t.value;
        case 'ident':
          throw new TemplateError(`template: function ${JSON.stringify(t.name)} used as an argument`);
        default:
          throw new TemplateError('template: unexpected token');
      }
    };
    const head = cmd[0] as Token;
    if (head.kind === 'ident') {
      const fn = FUNCS[head.name];
      if (fn === undefined) throw new TemplateError(`template: function ${JSON.stringify(head.name)} not defined`);
      const args = cmd.slice(1).map(arg);
      if (havePrev) args.push(prev);
      prev = fn(...args);
    } else {
      if (cmd.length > 1 || havePrev) throw new TemplateError(`template: can't give argument to non-function`);
      prev = arg(head);
    }
    havePrev = true;
  }
  return prev;
}

/** Renders `tmpl` against `data`. Throws TemplateError("template parsing error: …") on unsupported syntax. */
export function renderTemplate(tmpl: string, data: Value): string {
  let out = '';
  let i = 0;
  while (i < tmpl.length) {
    const open = tmpl.indexOf('{{', i);
    if (open < 0) {
      out += tmpl.slice(i);
      break;
    }
    let text = tmpl.slice(i, open);
    let start = open + 2;
    if (tmpl[start] === '-' && /\s/.test(tmpl[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    out += text;
    const close = tmpl.indexOf('}}', start);
    if (close < 0) throw new TemplateError('template parsing error: template: unclosed action');
    let end = close;
    let trimAfter = false;
    if (tmpl[close - 1] === '-' && /\s/.test(tmpl[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    const body = tmpl.slice(start, end).trim();
    i = close + 2;
    if (trimAfter) {
      while (i < tmpl.length && /\s/.test(tmpl[i] as string)) i++;
    }
    if (body.startsWith('/*')) continue;
    const first = /^\w+/.exec(body)?.[0];
    if (first !== undefined && ['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block'].includes(first)) {
      throw new TemplateError(`template parsing error: template: "${first}" actions are not supported by berth yet`);
    }
    try {
      out += goPrint(evalPipeline(tokenize(body), data));
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`);
      throw e;
    }
  }
  return out;
}
