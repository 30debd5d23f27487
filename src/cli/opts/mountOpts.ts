/**
 * cli/opts/mountOpts: the client side of `-v` and `--mount`, as docker's CLI
 * reads them — `-v` through internal/volumespec.Parse (a source makes it a
 * bind or named volume for HostConfig.Binds, none an anonymous volume in
 * Config.Volumes), `--mount` through opts.MountOpt (one CSV record of
 * key=value fields → a HostConfig.Mounts object, with the CLI's own checks
 * and messages). Pure: relative sources are made absolute against `cwd`.
 */
import path from 'node:path';
import { ramInBytes } from '../format/units.js';

/** api/types/mount.Mount, keys in Go's field order (the JSON docker sends). */
export interface MountFlag {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface VolumeFlag {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

/** volumespec.Parse (Linux specs): "target", "source:target", "source:target:mode". */
export function parseVolumeFlag(spec: string): VolumeFlag {
  if (spec === '') throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { type: 'volume', source: '', target: spec };
  const parts = spec.split(':');
  let source = '';
  let target = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const last = i === parts.length - 1;
    if (part === '') throw new Error(`invalid spec: ${spec}: empty section between colons`);
    if (source === '' && last) target = part;
    else if (source === '') source = part;
    else if (target === '') target = part;
    else if (!last) throw new Error(`invalid spec: ${spec}: too many colons`);
  }
  const isPath = source !== '' && (source.startsWith('.') || source.startsWith('/') || source.startsWith('~'));
  return { type: source === '' || !isPath ? 'volume' : 'bind', source, target };
}

/** The Binds entry docker sends for a `-v` with a source: a relative host path made absolute. */
export function bindFromVolumeFlag(spec: string, cwd: string): string | null {
  const v = parseVolumeFlag(spec);
  if (v.source === '') return null;
  if (v.type !== 'bind') return spec;
  const colon = spec.indexOf(':');
  let host = spec.slice(0, colon);
  if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(cwd, host);
  return `${host}${spec.slice(colon)}`;
}

/** encoding/csv: one record, with "quoted, fields" and "" for a quote inside them. */
function csvFields(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i];
        i++;
      }
      if (i < value.length && value[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
    } else {
      const end = value.indexOf(',', i);
      field = end < 0 ? value.slice(i) : value.slice(i, end);
      if (field.includes('"')) throw new Error(`parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field`);
      i = end < 0 ? value.length : end;
    }
    out.push(field);
    if (i >= value.length) return out;
    i++; // the comma
  }
}

function parseBool(key: string, val: string, hasValue: boolean): boolean {
  if (!hasValue) return true;
  if (val === '1' || val === 'true') return true;
  if (val === '0' || val === 'false') return false;
  throw new Error(`invalid value for '${key}': invalid boolean value (${JSON.stringify(val)}): must be one of "true", "1", "false", or "0" (default "true")`);
}

function setOnMap(target: Record<string, string> | undefined, kv: string): Record<string, string> | undefined {
  const eq = kv.indexOf('=');
  const k = eq < 0 ? kv : kv.slice(0, eq);
  if (k === '') return target;
  return { ...(target ?? {}), [k]: eq < 0 ? '' : kv.slice(eq + 1) };
}

/** opts.MountOpt.Set: one `--mount` value → a HostConfig.Mounts entry. */
export function parseMountFlag(raw: string, cwd: string): MountFlag {
  const value = raw.trim();
  if (value === '') throw new Error('value is empty');
  const m: MountFlag = { Type: 'volume' };
  const bind = (): NonNullable<MountFlag['BindOptions']> => (m.BindOptions ??= {});
  const vol = (): NonNullable<MountFlag['VolumeOptions']> => (m.VolumeOptions ??= {});
  const driver = (): NonNullable<NonNullable<MountFlag['VolumeOptions']>['DriverConfig']> => (vol().DriverConfig ??= {});
  const tmpfs = (): NonNullable<MountFlag['TmpfsOptions']> => (m.TmpfsOptions ??= {});
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const hasValue = eq >= 0;
    let key = hasValue ? field.slice(0, eq) : field;
    const val = hasValue ? field.slice(eq + 1) : '';
    if (key.trim() !== key) throw new Error(`invalid option '${key.trim()}' in '${field}': option should not have whitespace`);
    if (hasValue) {
      if (val.trim() === '') throw new Error(`invalid value for '${key}': value is empty`);
      if (val.trim() !== val) throw new Error(`invalid value for '${key}' in '${field}': value should not have whitespace`);
    }
    key = key.toLowerCase();
    if (!hasValue && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) {
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = parseBool(key, val, hasValue);
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bind().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        throw new Error('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
      case 'bind-recursive':
        if (val === 'disabled') bind().NonRecursive = true;
        else if (val === 'writable') bind().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bind().ReadOnlyForceRecursive = true;
        else if (val !== 'enabled') throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'bind-create-src':
        bind().CreateMountpoint = parseBool(key, val, hasValue);
        break;
      case 'volume-subpath':
        vol().Subpath = val;
        break;
      case 'volume-nocopy':
        vol().NoCopy = parseBool(key, val, hasValue);
        break;
      case 'volume-label': {
        const labels = setOnMap(vol().Labels, val);
        if (labels) vol().Labels = labels;
        break;
      }
      case 'volume-driver':
        driver().Name = val;
        break;
      case 'volume-opt': {
        const opts = setOnMap(driver().Options, val);
        if (opts) driver().Options = opts;
        break;
      }
      case 'image-subpath':
        (m.ImageOptions ??= {}).Subpath = val;
        break;
      case 'tmpfs-size': {
        let n: number;
        try {
          n = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        tmpfs().SizeBytes = n;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfs().Mode = parseInt(val, 8);
        break;
      }
      default:
        throw new Error(`unknown option '${key}' in '${field}'`);
    }
  }
  if (m.Type === '') throw new Error('type is required');
  for (const [opts, owner, prefix] of [
    [m.BindOptions, 'bind', 'bind'],
    [m.VolumeOptions, 'volume', 'volume'],
    [m.ImageOptions, 'image', 'image'],
    [m.TmpfsOptions, 'tmpfs', 'tmpfs'],
  ] as const) {
    if (opts !== undefined && m.Type !== owner) throw new Error(`cannot mix '${prefix}-*' options with mount type '${m.Type}'`);
  }
  const b = m.BindOptions;
  if (b?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (b?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (b.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  // Go's field order for the JSON the daemon gets.
  const ordered: MountFlag = { Type: m.Type };
  for (const k of ['Source', 'Target', 'ReadOnly', 'Consistency', 'BindOptions', 'VolumeOptions', 'ImageOptions', 'TmpfsOptions'] as const) {
    if (m[k] !== undefined) (ordered as unknown as Record<string, unknown>)[k] = m[k];
  }
  return ordered;
}
