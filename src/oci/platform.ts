/**
 * oci/platform: platform strings ("linux/arm64/v8") and choosing an image
 * index entry for a platform, as containerd's default matcher does. Pure.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import { hostPlatform, type Descriptor } from './image.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  const out: Platform = { os: p.os.toLowerCase(), architecture };
  let variant = p.variant?.toLowerCase();
  if (architecture === 'arm64' && (variant === 'v8' || variant === undefined)) variant = undefined;
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (variant) out.variant = variant;
  return out;
}

export function parsePlatform(s: string | null | undefined): Platform {
  if (!s) return normalizePlatform(hostPlatform());
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((x) => x === '' || !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new InvalidArgumentError(`"${s}": unknown operating system or architecture: invalid argument`);
  }
  if (parts.length === 1) return normalizePlatform({ os: 'linux', architecture: parts[0] as string });
  const p: Platform = { os: parts[0] as string, architecture: parts[1] as string };
  if (parts[2]) p.variant = parts[2];
  return normalizePlatform(p);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function matches(want: Platform, have: Descriptor['platform']): boolean {
  if (!have) return false;
  const h = normalizePlatform(have);
  return h.os === want.os && h.architecture === want.architecture && (want.variant === undefined || h.variant === want.variant);
}

/** The index entry for `want`; NotFound-style error text when none fits. */
export function selectManifest(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  return manifests.find((m) => matches(want, m.platform));
}
