/**
 * runtime/capabilities: Linux capability names, the set the running kernel
 * knows, and Docker's --cap-add/--cap-drop arithmetic (moby
 * daemon/pkg/oci/caps TweakCapabilities). Pure apart from reading
 * /proc/sys/kernel/cap_last_cap once.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errdefs/errors.js';

/** Capability numbers 0..40 (linux/capability.h). */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
]);

let known: string[] | undefined;

/**
 * Every capability the kernel knows that this process may pass on (its bounding set): what
 * --privileged grants. As moby's GetAllCapabilities: asking runc for a capability outside
 * our own bounding set fails the container ("unable to apply caps").
 */
export function allCapabilities(): string[] {
  if (known !== undefined) return [...known];
  let last = CAPABILITY_NAMES.length - 1;
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    if (Number.isInteger(n) && n >= 0) last = Math.min(n, CAPABILITY_NAMES.length - 1);
  } catch {
    // not Linux: assume the table
  }
  let bounding = (1n << BigInt(last + 1)) - 1n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) bounding = BigInt(`0x${m[1]}`);
  } catch {
    // keep every known capability
  }
  known = CAPABILITY_NAMES.slice(0, last + 1).filter((_c, i) => (bounding >> BigInt(i)) & 1n);
  return [...known];
}

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL". */
export function normalizeCapability(c: string): string {
  const u = c.trim().toUpperCase();
  if (u === 'ALL') return 'ALL';
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/**
 * Docker's capability set for a container: `base` (the defaults), with --cap-add and
 * --cap-drop applied; "ALL" in either adds or drops everything; an unknown name is 400.
 * Adding wins over dropping the same capability, as in moby.
 */
export function tweakCapabilities(base: readonly string[], add: readonly string[], drop: readonly string[]): string[] {
  const all = allCapabilities();
  const check = (list: readonly string[]): string[] =>
    list.map((c) => {
      const n = normalizeCapability(c);
      if (n !== 'ALL' && !CAPABILITY_NAMES.includes(n)) throw new InvalidArgumentError(`unknown capability: "${n}"`);
      return n;
    });
  const adds = check(add);
  const drops = check(drop);
  let caps: string[];
  if (adds.includes('ALL')) {
    caps = [...all];
  } else if (drops.includes('ALL')) {
    caps = [];
  } else {
    caps = base.filter((c) => !drops.includes(c));
  }
  if (!adds.includes('ALL')) {
    for (const c of adds) if (!caps.includes(c) && all.includes(c)) caps.push(c);
  } else {
    caps = caps.filter((c) => !drops.includes(c));
  }
  return caps;
}
