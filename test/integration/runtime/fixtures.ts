/**
 * Fixtures for the runtime integration tests (root, real runc + conmon): a busybox
 * rootfs, and a harness with a private runc root, exit dir and cgroup parent that
 * removes every container, process, cgroup and directory it made.
 */
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConmonRuntime, persistFiles, type CreateResult } from '../../../src/runtime/conmonRuntime.js';
import { ExitWatcher, type ExitInfo } from '../../../src/runtime/exitWatcher.js';
import { buildSpec, withArgs, withCgroupsPath, withHostname, withRootfs, withTerminal, type SpecOpt } from '../../../src/runtime/spec.js';

export const RUNC = '/usr/sbin/runc';
export const CONMON = '/usr/bin/conmon';
export const isRoot = process.getuid?.() === 0;
export const skipReason: string | false = !isRoot ? 'needs root' : false;

/** A minimal busybox root filesystem at `dir`. */
export async function makeBusyboxRootfs(dir: string): Promise<void> {
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'usr/bin', 'usr/sbin', 'var']) {
    await mkdir(join(dir, d), { recursive: true });
  }
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  await Promise.all(applets.map((a) => symlink('busybox', join(dir, 'bin', a)).catch(() => undefined)));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await chmod(join(dir, 'tmp'), 0o1777);
}

export interface TestContainer {
  id: string;
  dir: string;
  bundleDir: string;
  logPath: string;
  persistDir: string;
  created?: CreateResult;
}

export interface NewContainerOptions {
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  /** Put the container directory under this extra path (long-path tests). */
  subdir?: string;
}

export class RuntimeHarness {
  readonly base: string;
  readonly runtime: ConmonRuntime;
  readonly exitDir: string;
  readonly cgroupParent: string;
  readonly watcher: ExitWatcher;
  private readonly containers: TestContainer[] = [];
  private template: string | undefined;

  private constructor(base: string) {
    this.base = base;
    this.exitDir = join(base, 'exits');
    this.cgroupParent = `/berth-test-${randomBytes(4).toString('hex')}`;
    this.runtime = new ConmonRuntime({ runc: RUNC, conmon: CONMON, stateRoot: join(base, 'runc'), cgroupParent: this.cgroupParent });
    this.watcher = new ExitWatcher(this.exitDir, {
      persistDirFor: (id) => this.containers.find((c) => c.id === id)?.persistDir,
      rescanMs: 500,
    });
  }

  static async create(): Promise<RuntimeHarness> {
    // Short base: keeps the attach socket path under sun_path's 108 bytes unless a test wants otherwise.
    const h = new RuntimeHarness(await mkdtemp('/tmp/brt-'));
    await h.watcher.start();
    return h;
  }

  /** Makes the bundle (own busybox rootfs copy, config.json) for a container; does not create it. */
  async prepare(name: string, args: string[], opts: SpecOpt[] = [], o: NewContainerOptions = {}): Promise<TestContainer> {
    if (this.template === undefined) {
      this.template = join(this.base, 'rootfs-template');
      await makeBusyboxRootfs(this.template);
    }
    const id = `bt-${randomBytes(3).toString('hex')}-${name}`;
    const dir = join(this.base, o.subdir ?? '', name);
    const bundleDir = join(dir, 'bundle');
    await mkdir(bundleDir, { recursive: true });
    await cp(this.template, join(bundleDir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const c: TestContainer = { id, dir, bundleDir, logPath: join(dir, 'ctr.log'), persistDir: join(dir, 'persist') };
    this.containers.push(c);
    const spec = buildSpec([
      withArgs(args),
      withRootfs('rootfs', false),
      withHostname(name),
      withCgroupsPath(`${this.cgroupParent}/${id}`),
      withTerminal(o.tty === true),
      ...opts,
    ]);
    await this.runtime.writeSpec(bundleDir, spec);
    return c;
  }

  async create(c: TestContainer, o: NewContainerOptions = {}): Promise<CreateResult> {
    c.created = await this.runtime.create({
      id: c.id,
      bundleDir: c.bundleDir,
      logPath: c.logPath,
      exitDir: this.exitDir,
      persistDir: c.persistDir,
      tty: o.tty === true,
      openStdin: o.openStdin === true,
      ...(o.stdinOnce !== undefined ? { stdinOnce: o.stdinOnce } : {}),
    });
    return c.created;
  }

  /** prepare + create. */
  async newContainer(name: string, args: string[], opts: SpecOpt[] = [], o: NewContainerOptions = {}): Promise<TestContainer> {
    const c = await this.prepare(name, args, opts, o);
    await this.create(c, o);
    return c;
  }

  /** Resolves with the container's exit (or rejects after `ms`). Listen before starting a short-lived container. */
  waitExit(c: TestContainer, ms = 15000): Promise<ExitInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watcher.off('exit', on);
        reject(new Error(`container ${c.id} did not exit within ${ms} ms`));
      }, ms);
      const on = (id: string, info: ExitInfo): void => {
        if (id !== c.id) return;
        clearTimeout(timer);
        this.watcher.off('exit', on);
        resolve(info);
      };
      this.watcher.on('exit', on);
      // It may have exited before we listened.
      void this.watcher.readExit(c.id).then((info) => {
        if (info !== null) on(c.id, info);
      });
    });
  }

  /** cgroup dirs of a container that exist now, across hierarchies. */
  async cgroupDirs(c: TestContainer): Promise<string[]> {
    const out: string[] = [];
    for (const h of await readdir('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', h, this.cgroupParent, c.id);
      try {
        await stat(p);
        out.push(p);
      } catch {
        // not there
      }
    }
    return out;
  }

  async parentCgroupDirs(): Promise<string[]> {
    const out: string[] = [];
    for (const h of await readdir('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', h, this.cgroupParent);
      try {
        await stat(p);
        out.push(p);
      } catch {
        // not there
      }
    }
    return out;
  }

  /** Kills and deletes every container, kills leftover conmons, removes cgroups and the temp dir. */
  async cleanup(): Promise<void> {
    this.watcher.close();
    for (const c of this.containers) {
      try {
        await this.runtime.delete(c.id, { force: true });
      } catch {
        // best effort
      }
    }
    // conmon exits once its container is gone; give it a moment, then make sure.
    await new Promise((r) => setTimeout(r, 200));
    for (const c of this.containers) {
      const pid = await this.runtime.monitorPid(c.persistDir);
      if (pid !== null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await this.runtime.removeCgroupParent();
    for (const d of await this.parentCgroupDirs()) {
      // Leftover per-container cgroups (a test failed half-way): rmdir the children, then the parent.
      for (const child of await readdir(d, { withFileTypes: true })) {
        if (child.isDirectory()) await rmdir(join(d, child.name)).catch(() => undefined);
      }
      await rmdir(d).catch(() => undefined);
    }
    await rm(this.base, { recursive: true, force: true });
  }
}

export { persistFiles };

/** Text of a Readable until it ends. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
