/**
 * cli/format/display: small renderings shared by list commands — 12-char
 * IDs, docker's Ellipsis, Go's strconv.Quote, and the `ps` PORTS column.
 * Pure.
 */
import type { Port } from '../../client/types.js';

const SHORT_ID_LEN = 12;

/** formatter.TruncateID: drops an `algo:` prefix, keeps 12 characters. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  let s = i >= 0 ? id.slice(i + 1) : id;
  if (s.length > SHORT_ID_LEN) s = s.slice(0, SHORT_ID_LEN);
  return s;
}

/** East Asian wide and emoji code points take two columns (go-runewidth, roughly). */
function runeWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** formatter.Ellipsis: fits `s` in `max` display columns, ending with "…" when cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const runes = [...s];
  if (max === 1) return runes[0] ?? '';
  const isAscii = runes.length === Buffer.byteLength(s, 'utf8');
  if (isAscii) {
    if (runes.length <= max) return s;
    return `${runes.slice(0, max - 1).join('')}…`;
  }
  let total = 0;
  const widths = runes.map((r) => {
    const w = runeWidth(r.codePointAt(0) ?? 0);
    total += w;
    return w;
  });
  if (total <= max) return s;
  let acc = 0;
  let i = 0;
  for (; i < runes.length; i++) {
    if (acc + (widths[i] as number) > max - 1) break;
    acc += widths[i] as number;
  }
  return `${runes.slice(0, i).join('')}…`;
}

/** Go's strconv.Quote: double quotes, Go escapes for control and invalid characters. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
      default:
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let groupType = parts[0] as string;
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0] as string;
    groupType = parts[1] as string;
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${groupType}`;
}

/** formatter.DisplayablePorts: "0.0.0.0:80->80/tcp, 9988/tcp", ranges collapsed. */
export function displayablePorts(input: Port[] | null | undefined): string {
  const ports = [...(input ?? [])].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const keys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of ports) {
    const current = port.PrivatePort;
    let key = port.Type;
    if (port.IP) {
      if ((port.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(port.IP, port.PublicPort ?? 0)}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { first: current, last: current });
      keys.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const key of keys) {
    const g = groups.get(key) as { first: number; last: number };
    result.push(formGroup(key, g.first, g.last));
  }
  result.push(...hostMappings);
  return result.join(', ');
}
