/**
 * build/options: what a build was asked to do — the legacy `/build` API's
 * parameters, checked and typed. Types and defaults only.
 */
import type { AuthConfig } from '../distribution/credentials.js';
import type { Platform } from '../oci/platform.js';
import type { Reference } from '../reference/index.js';
import type { Ulimit } from '../containers/types.js';

export interface BuildOptions {
  /** Path of the Dockerfile in the context ("Dockerfile" by default). */
  dockerfile: string;
  /** Tags to apply on success (validated, deduplicated, tagged form). */
  tags: Reference[];
  /** `--build-arg K=V`; null: named without a value and unset on the client. */
  buildArgs: Map<string, string | null>;
  /** `--label`: added to the last stage as LABEL steps. */
  labels: Record<string, string>;
  target: string;
  /** `--cache-from`: images whose history may supply steps (moby's legacy ImageCache sources). */
  cacheFrom: string[];
  noCache: boolean;
  /** Always pull base images (`--pull`). */
  pull: boolean;
  /** Remove intermediate containers after a successful step (`rm`, default true). */
  remove: boolean;
  /** Remove them after a failed one too (`forcerm`); berth always does, so nothing is left. */
  forceRemove: boolean;
  networkMode: string;
  /** `--platform`: the platform base images are pulled for and scratch images get; null: this host's. */
  platform: Platform | null;
  extraHosts: string[];
  ulimits: Ulimit[];
  shmSize: number;
  memory: number;
  memorySwap: number;
  cpuShares: number;
  cpuSetCpus: string;
  cpuSetMems: string;
  cpuPeriod: number;
  cpuQuota: number;
  /** X-Registry-Config: credentials by registry host (or Docker Hub's historical key). */
  authConfigs: Record<string, AuthConfig>;
  /** Secrets a RUN --mount=type=secret may use, by id (berth CLI's `--secret`). */
  secrets: Map<string, Buffer>;
}

export function defaultBuildOptions(): BuildOptions {
  return {
    dockerfile: 'Dockerfile',
    tags: [],
    buildArgs: new Map(),
    labels: {},
    target: '',
    cacheFrom: [],
    noCache: false,
    pull: false,
    remove: true,
    forceRemove: false,
    networkMode: '',
    platform: null,
    extraHosts: [],
    ulimits: [],
    shmSize: 0,
    memory: 0,
    memorySwap: 0,
    cpuShares: 0,
    cpuSetCpus: '',
    cpuSetMems: '',
    cpuPeriod: 0,
    cpuQuota: 0,
    authConfigs: {},
    secrets: new Map(),
  };
}
