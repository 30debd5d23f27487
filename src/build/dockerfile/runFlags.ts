/**
 * build/dockerfile/runFlags: the values of RUN's `--mount`, `--device`,
 * `--network` and `--security` flags, parsed as BuildKit's instructions
 * package does (commands_runmount.go, commands_rundevice.go,
 * commands_runnetwork.go, commands_runsecurity.go), with its error texts.
 *
 * `parseMount` runs twice in BuildKit: at parse time without an expander (only
 * `from=` is checked then) and at dispatch time with one (everything is
 * checked, values expanded). The builder calls it with its expander. Pure;
 * throws InvalidArgumentErrors with BuildKit's texts (the builder adds the line).
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import { goParseBool, goParseUint, goQuote, withSuggestion } from './goText.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

export interface RunMount {
  type: MountType;
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** tmpfs `size=` in bytes. */
  sizeLimit?: number;
  /** Cache or secret `id=`. */
  id?: string;
  sharing?: MountSharing;
  /** Secret/ssh `required`. */
  required: boolean;
  /** Secret `env=`: expose the secret as this environment variable. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface RunDevice {
  name: string;
  required: boolean;
}

const mountTypes: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const sharingModes: readonly MountSharing[] = ['shared', 'private', 'locked'];
export const networkModes = ['default', 'none', 'host'] as const;
export const securityModes = ['insecure', 'sandbox'] as const;
const mountKeys = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/** A single-line CSV record as go-csvvalue (encoding/csv rules) splits it. */
export function csvFields(input: string): string[] {
  let line = input;
  if (line.endsWith('\r\n')) line = line.slice(0, -2);
  else if (line.endsWith('\n')) line = line.slice(0, -1);
  if (line.length === 0) throw new InvalidArgumentError('EOF');
  const bytesBefore = (i: number): number => Buffer.byteLength(line.slice(0, i), 'utf8');
  const parseErr = (i: number, what: string): never => {
    throw new InvalidArgumentError(`parse error on line 1, column ${bytesBefore(i) + 1}: ${what}`);
  };
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    if (line[pos] !== '"') {
      const comma = line.indexOf(',', pos);
      const field = comma >= 0 ? line.slice(pos, comma) : line.slice(pos);
      const q = field.indexOf('"');
      if (q >= 0) parseErr(pos + q, 'bare " in non-quoted-field');
      fields.push(field);
      if (comma < 0) return fields;
      pos = comma + 1;
      continue;
    }
    pos++;
    let field = '';
    for (;;) {
      const q = line.indexOf('"', pos);
      if (q < 0) parseErr(pos, 'extraneous or missing " in quoted-field');
      field += line.slice(pos, q);
      pos = q + 1;
      const next = line[pos];
      if (next === '"') {
        field += '"';
        pos++;
        continue;
      }
      if (next === ',') {
        fields.push(field);
        pos++;
        break;
      }
      if (next === undefined) {
        fields.push(field);
        return fields;
      }
      parseErr(pos - 1, 'extraneous or missing " in quoted-field');
    }
  }
}

/** go-units RAMInBytes: `64m`, `1.5GiB`, `100` (binary multiples). Undefined when invalid. */
export function ramInBytes(size: string): number | undefined {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i] ?? 'x')) {
      sep = i;
      break;
    }
  }
  if (sep < 0) return undefined;
  const num = size[sep] === ' ' ? size.slice(0, sep) : size.slice(0, sep + 1);
  let sfx = size.slice(sep + 1).toLowerCase();
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(num)) return undefined;
  let n = Number(num);
  if (!(n >= 0)) return undefined;
  if (sfx.length === 0) return Math.trunc(n);
  if (sfx.length > 3) return undefined;
  if (sfx[0] === 'b') return sfx.length > 1 ? undefined : Math.trunc(n);
  const power = 'kmgtp'.indexOf(sfx[0] ?? '');
  if (power < 0) return undefined;
  n *= 1024 ** (power + 1);
  sfx = sfx.slice(1);
  if (sfx !== '' && sfx !== 'b' && sfx !== 'ib') return undefined;
  return Math.trunc(n);
}

/**
 * One `--mount=` value. Without `expand` (parse time) only `from=` is
 * checked, as BuildKit does before variables are known; with it every value
 * is expanded and checked.
 */
export function parseMount(value: string, expand?: (word: string) => string): RunMount {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (err) {
    throw new InvalidArgumentError(`failed to parse csv mounts: ${(err as Error).message}`);
  }
  const m: RunMount = { type: 'bind', readOnly: false, required: false };
  let roAuto = true;
  const bool = (key: string, v: string): boolean => {
    const b = goParseBool(v);
    if (b === undefined) throw new InvalidArgumentError(`invalid value for ${key}: ${v}`);
    return b;
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    let v = eq >= 0 ? field.slice(eq + 1) : '';
    if (eq < 0) {
      if (expand === undefined) continue; // evaluated later
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          roAuto = false;
          continue;
        case 'required':
          if (m.type === 'secret' || m.type === 'ssh') {
            m.required = true;
            continue;
          }
          throw new InvalidArgumentError(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          throw new InvalidArgumentError(`invalid field '${field}' must be a key=value pair`);
      }
    }
    if (expand !== undefined) {
      v = expand(v);
    } else if (key === 'from') {
      const dollar = v.indexOf('$');
      if (dollar !== -1 && dollar !== v.length - 1) {
        throw new InvalidArgumentError(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else {
      continue;
    }
    switch (key) {
      case 'type': {
        const t = v.toLowerCase() as MountType;
        if (!mountTypes.includes(t)) throw new InvalidArgumentError(withSuggestion(`unsupported mount type ${goQuote(v)}`, v, mountTypes, true));
        m.type = t;
        break;
      }
      case 'from':
        m.from = v;
        break;
      case 'source':
      case 'src':
        m.source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = v;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = bool(key, v);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !bool(key, v);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new InvalidArgumentError(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = bool(key, v);
        break;
      case 'size': {
        if (m.type !== 'tmpfs') throw new InvalidArgumentError(`unexpected key '${key}' for mount type '${m.type}'`);
        const size = ramInBytes(v);
        if (size === undefined) throw new InvalidArgumentError(`invalid value for ${key}: ${v}`);
        m.sizeLimit = size;
        break;
      }
      case 'id':
        m.id = v;
        break;
      case 'sharing': {
        const s = v.toLowerCase() as MountSharing;
        if (!sharingModes.includes(s)) throw new InvalidArgumentError(withSuggestion(`unsupported sharing value ${goQuote(v)}`, v, sharingModes, true));
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = uintOrThrow(v, 8, `invalid value ${v} for mode`);
        break;
      case 'uid':
        m.uid = uintOrThrow(v, 10, `invalid value ${v} for uid`);
        break;
      case 'gid':
        m.gid = uintOrThrow(v, 10, `invalid value ${v} for gid`);
        break;
      case 'env':
        m.env = v;
        break;
      default:
        throw new InvalidArgumentError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, mountKeys, true));
    }
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    if (m.mode !== undefined) throw new InvalidArgumentError(`mode not allowed for "${m.type}" type mounts`);
    if (m.uid !== undefined) throw new InvalidArgumentError(`uid not allowed for "${m.type}" type mounts`);
    if (m.gid !== undefined) throw new InvalidArgumentError(`gid not allowed for "${m.type}" type mounts`);
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new InvalidArgumentError('secret mount should not have a from');
    if (m.sharing !== undefined) throw new InvalidArgumentError('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new InvalidArgumentError('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new InvalidArgumentError("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new InvalidArgumentError(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

function uintOrThrow(v: string, base: 8 | 10, message: string): number {
  try {
    return goParseUint(v, base, 32);
  } catch {
    throw new InvalidArgumentError(message);
  }
}

/** One `--device=` value: `name[,required[=bool]]` or `name=…`. */
export function parseDevice(value: string): RunDevice {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (err) {
    throw new InvalidArgumentError(`failed to parse csv devices: ${(err as Error).message}`);
  }
  const d: RunDevice = { name: '', required: false };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const v = eq >= 0 ? field.slice(eq + 1) : '';
    if (eq < 0) {
      if (key === 'required') {
        d.required = true;
        continue;
      }
      if (d.name === '') {
        d.name = field;
        continue;
      }
      throw new InvalidArgumentError(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'name':
        if (d.name !== '') throw new InvalidArgumentError(`device name already set to ${d.name}`);
        d.name = v;
        break;
      case 'required': {
        const b = goParseBool(v);
        if (b === undefined) throw new InvalidArgumentError(`invalid value for ${key}: ${v}`);
        d.required = b;
        break;
      }
      default:
        if (d.name === '') {
          d.name = field;
          continue;
        }
        throw new InvalidArgumentError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
  return d;
}
