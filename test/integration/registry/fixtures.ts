// Shared helpers for the registry tests: OCI image layouts written by hand (random-data layers as
// tar+gzip, a config, a manifest, index.json, oci-layout), registries started on 127.0.0.1:0 with
// their own temp root (in-process, or as a `berth registry serve` process), and a tiny HTTP client.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RegistryServer, type RegistryServerOptions } from '../../../src/registry/server.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const BERTH = join(REPO_ROOT, 'bin/berth');

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A ustar archive with one regular file. */
export function tarOf(name: string, body: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]);
}

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export function blobOf(mediaType: string, data: Buffer): Blob {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

export interface TestImage {
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

export type Flavour = 'oci' | 'docker';

/** An image of `layers` random layers of `layerSize` bytes each (gzip of random data barely shrinks). */
export function makeImage(opts: { layers?: number; layerSize?: number; flavour?: Flavour; arch?: string } = {}): TestImage {
  const flavour = opts.flavour ?? 'oci';
  const layerType = flavour === 'oci' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  const configType = flavour === 'oci' ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  const manifestType = flavour === 'oci' ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const layers: Blob[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < (opts.layers ?? 2); i++) {
    const tar = tarOf(`file${i}.bin`, randomBytes(opts.layerSize ?? 4096));
    diffIds.push(sha256(tar));
    layers.push(blobOf(layerType, gzipSync(tar, { level: 1 })));
  }
  const config = blobOf(
    configType,
    Buffer.from(
      JSON.stringify({
        architecture: opts.arch ?? 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        created: '2024-01-01T00:00:00Z',
      }),
    ),
  );
  const manifest = blobOf(
    manifestType,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    ),
  );
  return { config, layers, manifest };
}

/** Writes `img` as an OCI image layout at `dir` with `tag` (skopeo's `oci:DIR:TAG`). */
export function writeLayout(dir: string, img: TestImage, tag: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [img.config, ...img.layers, img.manifest]) {
    writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.data);
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: img.manifest.mediaType,
          digest: img.manifest.digest,
          size: img.manifest.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
}

/** The manifest digest an OCI layout holds under `tag`. */
export function layoutDigest(dir: string, tag: string): string | undefined {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)?.digest;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-reg-${prefix}-`));
}

export interface TestRegistry {
  server: RegistryServer;
  root: string;
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  stop(): Promise<void>;
}

/** A registry in this process on 127.0.0.1:0 with a fresh temp root. */
export async function startRegistry(opts: Partial<RegistryServerOptions> = {}): Promise<TestRegistry> {
  const root = opts.root ?? tempDir('root');
  const server = await RegistryServer.open({ log: () => undefined, ...opts, root });
  const addr = await server.listen('127.0.0.1', 0);
  const host = `127.0.0.1:${addr.port}`;
  return {
    server,
    root,
    host,
    url: `${opts.tls !== undefined ? 'https' : 'http'}://${host}`,
    async stop() {
      await server.close();
      if (opts.root === undefined) rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface RegistryProcess {
  child: ChildProcess;
  host: string;
  line: string;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `berth registry serve --addr 127.0.0.1:0 …` as its own process (needs `npx tsc` output in dist/).
 * `viaLauncher`: started through bin/berth's #! line, as a user runs it, instead of `node bin/berth`.
 */
export async function startRegistryProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; viaLauncher?: boolean } = {}): Promise<RegistryProcess> {
  const argv = [BERTH, 'registry', 'serve', '--addr', '127.0.0.1:0', ...args];
  const child = spawn(opts.viaLauncher === true ? BERTH : process.execPath, opts.viaLauncher === true ? argv.slice(1) : argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const line = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`registry did not start: ${err}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(out.slice(0, nl));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`registry exited (${code}): ${err}`));
    });
  });
  const m = /listening on https?:\/\/([^ ]+) /.exec(line);
  if (m === null) throw new Error(`unexpected first line: ${line}`);
  return {
    child,
    host: m[1] as string,
    line,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface Resp {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = unknown>(): T;
}

export interface ReqOpts {
  headers?: Record<string, string | string[] | number>;
  body?: Buffer | string;
  /** Abort after writing this many body bytes (a client that disconnects mid-upload). */
  abortAfter?: number;
  ca?: Buffer;
}

/** One HTTP(S) request with no client-side magic (no redirects, no auth). */
export function req(method: string, url: string, opts: ReqOpts = {}): Promise<Resp> {
  return new Promise((resolvePromise, reject) => {
    const u = new URL(url);
    const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | string[] | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined && headers['Content-Length'] === undefined && headers['Transfer-Encoding'] === undefined) {
      headers['Content-Length'] = Buffer.byteLength(opts.body);
    }
    const r = fn(
      u,
      { method, headers, agent: false, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    if (opts.abortAfter !== undefined && opts.body !== undefined) {
      r.write(Buffer.from(opts.body).subarray(0, opts.abortAfter), () => {
        setTimeout(() => {
          r.destroy();
          resolvePromise({ status: 0, headers: {}, body: Buffer.alloc(0), json: () => ({}) as never });
        }, 100);
      });
      return;
    }
    r.end(opts.body);
  });
}

/** Pushes an image's blobs (POST+PUT) and manifest with plain HTTP. */
export async function pushImage(base: string, repo: string, img: TestImage, tag: string, headers: Record<string, string> = {}): Promise<void> {
  for (const b of [img.config, ...img.layers]) {
    const start = await req('POST', `${base}/v2/${repo}/blobs/uploads/`, { headers });
    if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${start.body.toString()}`);
    // Location may be absolute (distribution) or a path (berth): resolve it against the base.
    const loc = new URL(start.headers.location as string, base);
    loc.searchParams.set('digest', b.digest);
    const put = await req('PUT', loc.toString(), {
      body: b.data,
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${put.body.toString()}`);
  }
  const m = await req('PUT', `${base}/v2/${repo}/manifests/${tag}`, {
    body: img.manifest.data,
    headers: { ...headers, 'Content-Type': img.manifest.mediaType },
  });
  if (m.status !== 201) throw new Error(`PUT manifest: ${m.status} ${m.body.toString()}`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the registry under test may live in this process). */
export function runAsync(file: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function skopeo(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return runAsync('skopeo', args, timeoutMs);
}

export const errorCode = (r: Resp): string | undefined => {
  try {
    return r.json<{ errors: { code: string }[] }>().errors[0]?.code;
  } catch {
    return undefined;
  }
};

/** A skip reason when a client program is not installed (the set-up script should install it). */
export function missing(bin: string): string | false {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0 ? false : `${bin} is not installed (apt-get install -y ${bin})`;
}
export const NO_SKOPEO = missing('skopeo');
