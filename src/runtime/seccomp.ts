/**
 * runtime/seccomp: Docker's seccomp profile format (archMap, includes and
 * excludes by capability, architecture and kernel version) and its
 * conversion into the OCI `linux.seccomp` of one container, as moby's
 * profiles/seccomp setupSeccomp does. Pure apart from reading the host's
 * architecture and kernel release.
 */
import { arch as hostArch, release } from 'node:os';
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { OciSeccomp } from './ociTypes.js';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }> | null;
  flags?: string[] | null;
  syscalls?: SeccompRule[] | null;
}

/** Node's process.arch → Go's GOARCH (what the profile's arches name). */
export function goArch(nodeArch: string = hostArch()): string {
  const m: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', mips64el: 'mips64le' };
  return m[nodeArch] ?? nodeArch;
}

const GO_TO_SECCOMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  '386': 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
};

/** "6.18.0-foo" ≥ "4.8"? */
export function kernelAtLeast(want: string, have: string = release()): boolean {
  const parse = (s: string): number[] => (/^(\d+)(?:\.(\d+))?/.exec(s) ?? []).slice(1, 3).map((x) => Number(x ?? 0));
  const [wa = 0, wb = 0] = parse(want);
  const [ha = 0, hb = 0] = parse(have);
  return ha > wa || (ha === wa && hb >= wb);
}

export interface SeccompContext {
  /** The container's bounding capability set. */
  capabilities: readonly string[];
  /** GOARCH of the host. Default: this machine's. */
  arch?: string;
  /** Kernel release. Default: this machine's. */
  kernel?: string;
}

/** A Docker-format (or OCI-format) profile → the OCI seccomp of one container. */
export function toOciSeccomp(profile: SeccompProfile, ctx: SeccompContext): OciSeccomp {
  const arch = ctx.arch ?? goArch();
  const kernel = ctx.kernel ?? release();
  if ((profile.archMap?.length ?? 0) > 0 && (profile.architectures?.length ?? 0) > 0) {
    throw new InvalidArgumentError("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const out: OciSeccomp = { defaultAction: profile.defaultAction, architectures: [...(profile.architectures ?? [])], syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags && profile.flags.length > 0) out.flags = [...profile.flags];
  const native = GO_TO_SECCOMP[arch];
  for (const a of profile.archMap ?? []) {
    if (a.architecture === native) out.architectures?.push(a.architecture, ...(a.subArchitectures ?? []));
  }
  const caps = new Set(ctx.capabilities);
  for (const rule of profile.syscalls ?? []) {
    if ((rule as { name?: string }).name) throw new InvalidArgumentError("the 'name' field is no longer supported in seccomp profiles, use 'names'");
    const ex = rule.excludes ?? {};
    const inc = rule.includes ?? {};
    if (ex.arches?.includes(arch)) continue;
    if (ex.caps?.some((c) => caps.has(c))) continue;
    if (ex.minKernel && kernelAtLeast(ex.minKernel, kernel)) continue;
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
    if (inc.caps && inc.caps.length > 0 && !inc.caps.every((c) => caps.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel, kernel)) continue;
    const s: NonNullable<OciSeccomp['syscalls']>[number] = { names: [...rule.names], action: rule.action };
    if (rule.errnoRet !== undefined) (s as { errnoRet?: number }).errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) s.args = rule.args.map((a) => ({ ...a }));
    out.syscalls?.push(s);
  }
  return out;
}

/** Parses a profile given as JSON text (`--security-opt seccomp=<profile>`), 400 when it is not one. */
export function parseSeccompProfile(json: string): SeccompProfile {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new InvalidArgumentError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || typeof (v as { defaultAction?: unknown }).defaultAction !== 'string') {
    throw new InvalidArgumentError('Decoding seccomp profile failed: defaultAction is required');
  }
  return v as SeccompProfile;
}
