/**
 * volumes/mountSpec: the grammar of a container's mounts as moby's Linux
 * parser reads it (daemon/volume/mounts/linux_parser.go) — `HostConfig.Binds`
 * ("name:/path[:mode]", "/host:/path[:mode]", "/path"), `HostConfig.Mounts`
 * objects (bind, volume, tmpfs, image), `HostConfig.VolumesFrom` ("ctr[:ro|rw]"),
 * and tmpfs options to mount data — with moby's error messages. Also the
 * MountPoint shape a container record keeps. Pure, apart from
 * `checkBindSource` (one stat of the host path).
 */
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../errdefs/errors.js';

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'image';

/** A resolved mount of a container, as its record keeps it (moby's MountPoint). */
export interface MountPoint {
  Type: MountType;
  /** The volume's name ("" for binds and tmpfs); for an image mount, the image as the user named it. */
  Name: string;
  /** Host path: the bind source or the volume's data directory ("" for tmpfs); for an image mount, the image ID. */
  Source: string;
  Destination: string;
  /** The volume driver ("" for binds and tmpfs). */
  Driver: string;
  /** The mode string the user gave in Binds ("ro,z"…); "z" for local volumes without one. */
  Mode: string;
  RW: boolean;
  /** Binds: rprivate unless given; "" for volumes and tmpfs. */
  Propagation: string;
  /** Copy the image's content at the destination into the volume when it is still empty (next start). */
  CopyData: boolean;
  /** A volume made without a name for this container: `rm -v` and `--rm` remove it. */
  Anonymous: boolean;
  /** A `-v`/Binds bind: a missing source is created as a directory at start. */
  CreateSource: boolean;
  /** `bind-recursive=disabled`: a plain bind, submounts of the source are not carried. */
  NonRecursive: boolean;
  /**
   * Read-only on the top mount only (`bind-recursive=writable`, or any read-only mount made
   * through API < 1.44); otherwise a read-only mount is recursively read-only (`rro`).
   * Absent in records made before this field existed: false.
   */
  ReadOnlyNonRecursive?: boolean;
  /** `bind-recursive=readonly`: the start fails if the mount cannot be made recursively read-only. */
  ReadOnlyForceRecursive?: boolean;
  /** `volume-subpath` / `image-subpath`: only this path of the volume or image is mounted (relative, within it). */
  Subpath?: string;
  /** tmpfs mount data from TmpfsOptions ("size=100m,mode=1777"). */
  TmpfsData: string;
}

/** A mount parsed from the request, before its volume (if any) exists. */
export interface ParsedMount extends MountPoint {
  /** --mount volume-label=… / volume-opt=…: used if the volume has to be created. */
  volumeLabels: Record<string, string> | null;
  volumeOptions: Record<string, string> | null;
}

/** HostConfig.Mounts[] (api/types/mount.Mount). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  ImageOptions?: { Subpath?: string } | null;
  ClusterOptions?: unknown;
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

/** linuxValidMountMode: comma-separated, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if (PROPAGATIONS.has(o)) counts.prop++;
    else if (COPY_MODES.has(o)) counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

function propagationOf(mode: string): string | null {
  return mode.split(',').find((o) => PROPAGATIONS.has(o)) ?? null;
}

function mountError(type: string, msg: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);
}

function checkTarget(type: string, target: string): void {
  if (target === '') throw mountError(type, 'field Target must not be empty');
  if (posix.normalize(target.replace(/\\/g, '/')).replace(/\/+$/, '') === '') throw mountError(type, "invalid specification: destination can't be '/'");
  if (!target.replace(/\\/g, '/').startsWith('/')) throw mountError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

/** Go's filepath.IsLocal: non-empty, relative, and never above its base after cleaning. */
export function isLocalPath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0')) return false;
  const c = posix.normalize(p);
  return c !== '..' && !c.startsWith('../');
}

/** path.Clean for absolute paths. */
export function cleanPath(p: string): string {
  const c = posix.normalize(p);
  return c.length > 1 ? c.replace(/\/+$/, '') : c;
}

/** ConvertTmpfsOptions: TmpfsOptions (and ReadOnly) → mount data. */
export function tmpfsData(opts: ApiMount['TmpfsOptions'], readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opts?.Mode) raw.push(`mode=${opts.Mode.toString(8)}`);
  const size = opts?.SizeBytes ?? 0;
  if (size !== 0) {
    if (!Number.isInteger(size) || size < 0) throw new Error(`invalid tmpfs size: ${size}`);
    let n = size;
    let suffix = '';
    for (const [s, div] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % div === 0) {
        n = size / div;
        suffix = s;
        break;
      }
    }
    raw.push(`size=${n}${suffix}`);
  }
  for (const o of opts?.Options ?? []) {
    if (!Array.isArray(o) || o.length < 1 || o.length > 2) throw new Error('invalid option array length');
    if (o[0] !== 'exec' && o[0] !== 'noexec') throw new Error(`invalid option: ${String(o[0])}`);
    raw.push(o.length === 1 ? o[0] : `${o[0]}=${String(o[1])}`);
  }
  return raw.join(',');
}

function base(type: MountType, destination: string, rw: boolean): ParsedMount {
  return {
    Type: type,
    Name: '',
    Source: '',
    Destination: cleanPath(destination.replace(/\\/g, '/')),
    Driver: '',
    Mode: '',
    RW: rw,
    Propagation: '',
    CopyData: false,
    Anonymous: false,
    CreateSource: false,
    NonRecursive: false,
    TmpfsData: '',
    volumeLabels: null,
    volumeOptions: null,
  };
}

/**
 * parseMountSpec: one HostConfig.Mounts entry. Does not look at the host;
 * `checkBindSource` does (moby checks it in the same step, after the rest).
 */
export function parseApiMount(m: ApiMount): ParsedMount {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new InvalidArgumentError('invalid JSON: HostConfig.Mounts entries must be objects');
  const type = m.Type ?? '';
  const source = m.Source ?? '';
  const target = m.Target ?? '';
  if (typeof type !== 'string' || typeof source !== 'string' || typeof target !== 'string') {
    throw new InvalidArgumentError('invalid JSON: HostConfig.Mounts Type, Source and Target must be strings');
  }
  // validateExclusiveOptions: options of another type are an error.
  const present: Array<[string, unknown, string]> = [
    ['BindOptions', m.BindOptions, 'bind'],
    ['VolumeOptions', m.VolumeOptions, 'volume'],
    ['ImageOptions', m.ImageOptions, 'image'],
    ['TmpfsOptions', m.TmpfsOptions, 'tmpfs'],
    ['ClusterOptions', m.ClusterOptions, 'cluster'],
  ];
  for (const [field, value, owner] of present) {
    if (value !== undefined && value !== null && type !== owner) throw mountError(type, `field ${field} must not be specified`);
  }
  checkTarget(type, target);
  const rw = m.ReadOnly !== true;
  switch (type) {
    case 'bind': {
      if (source === '') throw mountError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation ?? '';
      if (prop !== '' && !PROPAGATIONS.has(prop)) throw mountError(type, `invalid propagation mode: ${prop}`);
      if (!source.replace(/\\/g, '/').startsWith('/')) throw mountError(type, `invalid mount path: '${source}' mount path must be absolute`);
      const p = base('bind', target, rw);
      p.Source = cleanPath(source);
      p.Propagation = prop || DEFAULT_PROPAGATION;
      p.CreateSource = m.BindOptions?.CreateMountpoint === true;
      p.NonRecursive = m.BindOptions?.NonRecursive === true;
      const roNonRec = m.BindOptions?.ReadOnlyNonRecursive === true;
      const roForce = m.BindOptions?.ReadOnlyForceRecursive === true;
      // moby's setupMounts checks, with its messages.
      if (rw && roNonRec) throw new InvalidArgumentError('mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive');
      if (rw && roForce) throw new InvalidArgumentError('mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive');
      if (roNonRec && roForce) throw new InvalidArgumentError('mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive');
      if (roNonRec) p.ReadOnlyNonRecursive = true;
      if (roForce) p.ReadOnlyForceRecursive = true;
      return p;
    }
    case 'volume': {
      const vo = m.VolumeOptions ?? null;
      const subpath = vo?.Subpath ?? '';
      if (typeof subpath !== 'string') throw new InvalidArgumentError('invalid JSON: VolumeOptions.Subpath must be a string');
      if (subpath !== '') {
        if (source === '') throw mountError(type, 'must not set Subpath when using anonymous volumes');
        if (!isLocalPath(subpath)) throw mountError(type, 'subpath must be a relative path within the volume');
      }
      const p = base('volume', target, rw);
      if (subpath !== '') p.Subpath = posix.normalize(subpath);
      p.Name = source;
      p.Anonymous = source === '';
      p.CopyData = vo?.NoCopy !== true;
      p.Driver = vo?.DriverConfig?.Name ?? '';
      p.volumeLabels = vo?.Labels ?? null;
      p.volumeOptions = vo?.DriverConfig?.Options ?? null;
      return p;
    }
    case 'tmpfs': {
      if (source !== '') throw mountError(type, 'field Source must not be specified');
      const p = base('tmpfs', target, rw);
      try {
        p.TmpfsData = tmpfsData(m.TmpfsOptions, !rw);
      } catch (e) {
        throw mountError(type, (e as Error).message);
      }
      return p;
    }
    case 'image': {
      if (source === '') throw mountError(type, 'field Source must not be empty');
      const subpath = m.ImageOptions?.Subpath ?? '';
      if (typeof subpath !== 'string') throw new InvalidArgumentError('invalid JSON: ImageOptions.Subpath must be a string');
      if (subpath !== '' && !isLocalPath(subpath)) throw mountError(type, 'subpath must be a relative path within the image');
      // An image's filesystem is always mounted read-only (moby sets RW false whatever was asked).
      const p = base('image', target, false);
      p.Name = source;
      p.Propagation = DEFAULT_PROPAGATION;
      if (subpath !== '') p.Subpath = posix.normalize(subpath);
      return p;
    }
    default:
      throw mountError(type, 'mount type unknown');
  }
}

/** The host check parseMountSpec makes for a bind: its source must exist (unless CreateMountpoint). */
export function checkBindSource(p: ParsedMount, exists: (path: string) => boolean = existsSync): void {
  if (p.Type === 'bind' && !p.CreateSource && !exists(p.Source)) throw mountError('bind', `bind source path does not exist: ${p.Source}`);
}

/** ParseMountRaw: one HostConfig.Binds entry. */
export function parseBind(raw: string): ParsedMount {
  const invalidSpec = (): InvalidArgumentError => new InvalidArgumentError(`invalid volume specification: '${raw}'`);
  if (typeof raw !== 'string') throw new InvalidArgumentError('invalid JSON: HostConfig.Binds must be an array of strings');
  // strings.SplitN(raw, ":", 4)
  const all = raw.split(':');
  const arr = all.length > 4 ? [...all.slice(0, 3), all.slice(3).join(':')] : all;
  if (arr[0] === '') throw invalidSpec();
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0] as string;
      break;
    case 2:
      // "/foo:rw" is a destination with a mode, which volumes cannot have.
      if (validMountMode(arr[1] as string)) throw invalidSpec();
      source = arr[0] as string;
      target = arr[1] as string;
      break;
    case 3:
      source = arr[0] as string;
      target = arr[1] as string;
      mode = arr[2] as string;
      break;
    default:
      throw invalidSpec();
  }
  if (!validMountMode(mode)) throw new InvalidArgumentError(`invalid mode: ${mode}`);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const rw = readWrite(mode);
  const opts = mode.split(',');
  const wrap = (msg: string): InvalidArgumentError => new InvalidArgumentError(`invalid volume specification: '${raw}': ${msg}`);
  const prop = propagationOf(mode);
  if (type === 'bind' && opts.includes('nocopy')) throw wrap('invalid mount config for type "bind": field VolumeOptions must not be specified');
  if (type === 'volume' && prop !== null) throw wrap('invalid mount config for type "volume": field BindOptions must not be specified');
  try {
    checkTarget(type, target);
  } catch (e) {
    throw wrap((e as Error).message);
  }
  const p = base(type, target, rw);
  p.Mode = mode;
  if (type === 'bind') {
    p.Source = cleanPath(source);
    p.Propagation = prop ?? DEFAULT_PROPAGATION;
    p.CreateSource = true;
  } else {
    p.Name = source;
    p.Anonymous = source === '';
    p.CopyData = !opts.includes('nocopy');
  }
  return p;
}

/** ParseVolumesFrom: "container[:mode]" → the container and whether its mounts stay writable. */
export function parseVolumesFrom(spec: string): { container: string; rw: boolean } {
  if (typeof spec !== 'string' || spec === '') throw new InvalidArgumentError('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, rw: true };
  // Propagation and copy modes belong to the original mounts, not to an import of them.
  if (!validMountMode(mode) || propagationOf(mode) !== null || mode.split(',').includes('nocopy')) {
    throw new InvalidArgumentError(`invalid mode: ${mode}`);
  }
  return { container, rw: readWrite(mode) };
}

/** The MountPoint a container record keeps (drops the volume-creation extras). */
export function toMountPoint(p: ParsedMount): MountPoint {
  const { volumeLabels: _l, volumeOptions: _o, ...mp } = p;
  return mp;
}
