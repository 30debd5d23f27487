/**
 * containers/updateConfig: `POST /containers/{id}/update` — validates the
 * body and merges it into a container's HostConfig the way moby's
 * UpdateContainer does (a zero field means "unchanged"; PidsLimit is set when
 * present). Pure.
 */
import { availableParallelism } from 'node:os';
import { ConflictError, InvalidArgumentError } from '../errdefs/errors.js';
import { parseCpuset } from '../runtime/spec.js';
import { validateRestartPolicy } from './restartPolicy.js';
import type { HostConfig, RestartPolicy } from './types.js';

const MIN_MEMORY = 6 * 1024 * 1024;
const NUMBER_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'BlkioWeight', 'PidsLimit'] as const;

export interface UpdateBody {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  PidsLimit?: number | null;
  RestartPolicy?: RestartPolicy;
}

export function validateUpdateBody(body: unknown): UpdateBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('invalid JSON: request body must be an object');
  const b = body as Record<string, unknown>;
  for (const k of NUMBER_FIELDS) {
    const v = b[k];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new InvalidArgumentError(`invalid JSON: ${k} must be a number`);
  }
  for (const k of ['CpusetCpus', 'CpusetMems']) {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string') throw new InvalidArgumentError(`invalid JSON: ${k} must be a string`);
  }
  const rp = b.RestartPolicy;
  if (rp !== undefined && rp !== null && (typeof rp !== 'object' || Array.isArray(rp))) throw new InvalidArgumentError('invalid JSON: RestartPolicy must be an object');
  const u = b as UpdateBody;
  if (u.RestartPolicy) validateRestartPolicy(u.RestartPolicy);
  return u;
}

/**
 * The container's HostConfig after the update (a new object; the input is not
 * changed). Throws 400/409 with moby's wording for impossible combinations.
 */
export function mergeUpdate(h: HostConfig, u: UpdateBody): HostConfig {
  const out: HostConfig = { ...h };
  const memory = u.Memory ?? 0;
  const swap = u.MemorySwap ?? 0;
  if (memory < 0) throw new InvalidArgumentError('Invalid value for memory: must be positive');
  if (memory !== 0 && memory < MIN_MEMORY) throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  if ((u.MemoryReservation ?? 0) !== 0 && (u.MemoryReservation ?? 0) < MIN_MEMORY) throw new InvalidArgumentError('Minimum memory reservation allowed is 6MB');
  if (memory !== 0) {
    // moby: a new limit above the recorded memory+swap total needs a new total too.
    if (memory > (h.MemorySwap ?? 0) && swap === 0) {
      throw new ConflictError('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    out.Memory = memory;
  }
  if (swap !== 0) {
    if (swap > 0 && swap < (out.Memory ?? 0)) throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
    if (swap > 0 && !(out.Memory ?? 0)) throw new InvalidArgumentError('You should always set the Memory limit when using Memoryswap limit, see usage');
    out.MemorySwap = swap;
  }
  if (u.MemoryReservation) out.MemoryReservation = u.MemoryReservation;
  if ((out.Memory ?? 0) > 0 && (out.MemoryReservation ?? 0) > (out.Memory ?? 0)) {
    throw new InvalidArgumentError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (u.NanoCpus) {
    const ncpu = availableParallelism();
    if (u.NanoCpus < 0 || u.NanoCpus > ncpu * 1e9) {
      throw new InvalidArgumentError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
    }
    if (u.CpuQuota || u.CpuPeriod) throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if ((h.CpuQuota ?? 0) > 0) throw new ConflictError('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    out.NanoCpus = u.NanoCpus;
  }
  if (u.CpuQuota || u.CpuPeriod) {
    if ((h.NanoCpus ?? 0) > 0) throw new ConflictError('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
    if (u.CpuQuota) out.CpuQuota = u.CpuQuota;
    if (u.CpuPeriod) out.CpuPeriod = u.CpuPeriod;
  }
  if (u.CpuShares) {
    if (u.CpuShares < 0) throw new InvalidArgumentError('invalid CPU shares: must be positive');
    out.CpuShares = u.CpuShares;
  }
  if (u.CpusetCpus) {
    const want = parseCpuset(u.CpusetCpus);
    const ncpu = availableParallelism();
    if (want.some((c) => c >= ncpu)) throw new InvalidArgumentError(`Requested CPUs are not available - requested ${u.CpusetCpus}, available: 0-${ncpu - 1}`);
    out.CpusetCpus = u.CpusetCpus;
  }
  if (u.CpusetMems) {
    parseCpuset(u.CpusetMems, 'cpuset mems');
    out.CpusetMems = u.CpusetMems;
  }
  if (u.BlkioWeight) {
    if (u.BlkioWeight < 10 || u.BlkioWeight > 1000) throw new InvalidArgumentError('Range of blkio weight is from 10 to 1000');
    out.BlkioWeight = u.BlkioWeight;
  }
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) out.PidsLimit = u.PidsLimit;
  if (u.RestartPolicy && (u.RestartPolicy.Name ?? '') !== '') {
    if (h.AutoRemove && u.RestartPolicy.Name !== 'no') {
      throw new InvalidArgumentError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    out.RestartPolicy = { Name: u.RestartPolicy.Name, MaximumRetryCount: u.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  return out;
}
