/**
 * test/integration/access/users: throwaway users and groups with unique names
 * for the socket-permission tests, and a way to run a command as one of them
 * (setpriv with the user's own supplementary groups). `remove()` deletes what
 * was made, after killing any process still running as those users (by PID).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { CmdResult } from '../../fixtures/testDaemon.js';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export class TestAccounts {
  readonly suffix = randomBytes(3).toString('hex');
  private readonly users: TestUser[] = [];
  private readonly groups: string[] = [];

  /** A new group `bg<suffix><tag>`; returns its name. */
  group(tag: string): string {
    const name = `bg${this.suffix}${tag}`;
    must('groupadd', [name]);
    this.groups.push(name);
    return name;
  }

  /**
   * A new user with no home and no login shell, optionally in `groups`. A
   * system user gets no subordinate ranges (useradd gives them to others when
   * login.defs says so).
   */
  user(tag: string, groups: string[] = [], opts: { system?: boolean } = {}): TestUser {
    const name = `bu${this.suffix}${tag}`;
    must('useradd', ['-M', '-s', '/usr/sbin/nologin', ...(opts.system ? ['--system'] : []), ...(groups.length ? ['-G', groups.join(',')] : []), name]);
    const u: TestUser = { name, uid: Number(must('id', ['-u', name]).trim()), gid: Number(must('id', ['-g', name]).trim()) };
    this.users.push(u);
    return u;
  }

  /** Runs `file args` as `u` (real and effective ids, its supplementary groups). */
  runAs(u: TestUser, file: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CmdResult> {
    return new Promise((resolve) => {
      const child = spawn(
        'setpriv',
        ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', 'env', `HOME=/tmp`, `PATH=${process.env['PATH'] ?? '/usr/bin:/bin'}`, ...Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`), file, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'], env: {} },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  remove(): void {
    const uids = new Set(this.users.map((u) => u.uid));
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m && uids.has(Number(m[1]))) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const u of this.users.splice(0)) spawnSync('userdel', [u.name]);
    for (const g of this.groups.splice(0)) spawnSync('groupdel', [g]);
  }
}
