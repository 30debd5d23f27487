/**
 * cli/format/inspect: docker's inspect.Inspect — fetch each reference, print
 * the daemon's JSON objects as one indented array (bytes kept as the daemon
 * sent them, like Go's json.Indent), or run `--format` per object. Errors are
 * collected and reported together after the output, exit status 1.
 */
import type { CliContext } from '../context.js';
import { StatusError, errorText } from '../errors.js';
import { parseFormat, TemplateError } from './template.js';

/** Go's json.Indent(dst, src, "", indent): re-indents without touching scalars. */
export function indentJSON(src: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  let inString = false;
  const newline = (): string => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += src[++i] ?? '';
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') {
      needIndent = false;
      depth++;
      out += newline();
    }
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[':
        out += c;
        needIndent = true;
        break;
      case ',':
        out += c + newline();
        break;
      case ':':
        out += ': ';
        break;
      case '}':
      case ']':
        if (needIndent) {
          // Empty object or array stays compact.
          needIndent = false;
        } else {
          depth--;
          out += newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

export type GetRef = (ref: string) => Promise<{ raw: Buffer }>;

/** Runs docker's inspect loop over `refs` and prints the result to stdout. */
export async function inspectAndPrint(ctx: CliContext, refs: string[], format: string, getRef: GetRef): Promise<void> {
  const raws: string[] = [];
  const errors: unknown[] = [];
  let templated = '';
  const useTemplate = format !== '' && format !== 'json';
  let render: ((data: unknown) => string) | null = null;
  if (useTemplate) {
    // Parsed once up front, as docker parses it before any request.
    try {
      render = parseFormat(format);
    } catch (e) {
      if (e instanceof TemplateError) throw new StatusError(e.message, 64);
      throw e;
    }
  }
  for (const ref of refs) {
    let raw: Buffer;
    try {
      raw = (await getRef(ref)).raw;
    } catch (e) {
      errors.push(e);
      continue;
    }
    const text = raw.toString('utf8').trim();
    if (render === null) {
      raws.push(text);
      continue;
    }
    try {
      templated += `${render(JSON.parse(text) as unknown)}\n`;
    } catch (e) {
      errors.push(e);
    }
  }
  if (useTemplate) {
    ctx.out(templated === '' ? '\n' : templated);
  } else if (format === 'json') {
    ctx.out(raws.length === 0 ? '[]\n' : `[${raws.join(',')}]\n`);
  } else {
    ctx.out(raws.length === 0 ? '[]\n' : `${indentJSON(`[${raws.join(',')}]`)}\n`);
  }
  if (errors.length > 0) throw new StatusError(errors.map((e) => errorText(e)).join('\n'), 1);
}
