/**
 * cli/opts/deviceOpts: `--device HOST[:CONTAINER][:PERMISSIONS]` as docker v28's CLI checks and
 * splits it (cli/command/container/opts.go validateLinuxPath + parseLinuxDevice, for a Linux
 * daemon) into HostConfig.Devices entries. Whether the host device exists is the daemon's
 * question (at start, as Docker). Pure.
 */
import { posix } from 'node:path';

/** One HostConfig.Devices entry (moby's container.DeviceMapping). */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** validDeviceMode: a non-empty combination of r, w and m, each at most once. */
export function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const ch of mode) {
    if (!'rwm'.includes(ch) || seen.has(ch)) return false;
    seen.add(ch);
  }
  return true;
}

/** Go's path.Clean: normalized, no trailing slash (but "/"), "." for nothing. */
function goClean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** validateLinuxPath with validDeviceMode: the value docker goes on with, or its error. */
export function validateDevice(val: string): string {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  const [first = '', second, third] = split;
  if (first === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let out: string;
  if (second === undefined) {
    containerPath = first;
    out = goClean(containerPath);
  } else if (third === undefined) {
    if (validDeviceMode(second)) {
      containerPath = first;
      out = `${goClean(containerPath)}:${second}`;
    } else {
      containerPath = second;
      out = `${first}:${goClean(containerPath)}`;
    }
  } else {
    containerPath = second;
    if (!validDeviceMode(third)) throw new Error(`bad mode specified: ${third}`);
    out = `${first}:${containerPath}:${third}`;
  }
  if (!posix.isAbsolute(containerPath)) throw new Error(`${containerPath} is not an absolute path`);
  return out;
}

/** parseLinuxDevice of a validated value: host path, container path (the host's by default), permissions ("rwm" by default). */
export function parseDevice(device: string): DeviceMapping {
  const arr = device.split(':');
  if (arr.length > 3) throw new Error(`invalid device specification: ${device}`);
  const [src = '', second, third] = arr;
  let dst = '';
  let permissions = 'rwm';
  if (third !== undefined) permissions = third;
  if (second !== undefined) {
    if (validDeviceMode(second)) permissions = second;
    else dst = second;
  }
  return { PathOnHost: src, PathInContainer: dst === '' ? src : dst, CgroupPermissions: permissions };
}

/** Every `--device` value, checked and split, in order. */
export function deviceMappings(values: readonly string[]): DeviceMapping[] {
  return values.map((v) => parseDevice(validateDevice(v)));
}
