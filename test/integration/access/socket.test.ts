/**
 * Who may use the unix socket: root:<group> 0660, a member works, anyone else
 * gets one clear "permission denied" line; the socket never has a wider mode,
 * even while berthd starts under umask 000; a missing default group means a
 * root-only socket with a warning, a missing named group refuses to start;
 * state-changing requests are audited with the peer's uid; containers do not
 * see the socket unless it is bind-mounted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, watch, type Stats } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, TestDaemon, startDaemon } from '../../fixtures/testDaemon.js';
import { TestAccounts, type TestUser } from './users.js';

const BERTH = join(REPO, 'bin', 'berth');
const BERTHD = join(REPO, 'bin', 'berthd');

interface AuditLine {
  msg: string;
  method?: string;
  path?: string;
  status?: number;
  peer?: { transport?: string; uid?: number; gid?: number; pid?: number };
}

function auditLines(log: string): AuditLine[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AuditLine)
    .filter((l) => l.msg === 'api request');
}

async function waitFor<T>(what: string, fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('unix socket access', () => {
  const accounts = new TestAccounts();
  let group = '';
  let gid = 0;
  let member: TestUser;
  let outsider: TestUser;
  let td: TestDaemon;

  before(async () => {
    group = accounts.group('g');
    gid = Number(spawnSync('getent', ['group', group], { encoding: 'utf8' }).stdout.split(':')[2]);
    member = accounts.user('m', [group]);
    outsider = accounts.user('o');
    td = await startDaemon(['--group', group, '--log-level', 'info']);
    // mkdtemp made the test root 0700; let other users reach the socket inside it.
    chmodSync(td.root, 0o711);
    await td.importBusybox();
  });

  after(async () => {
    await td?.cleanup();
    accounts.remove();
  });

  it('creates the socket root:<group> with mode 0660', () => {
    const st = lstatSync(td.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, gid);
    // The private directory used while binding is gone.
    assert.deepEqual(readdirSync(td.root).filter((n) => n.startsWith('.berthd-')), []);
  });

  it('lets a group member drive the engine', async () => {
    const r = await accounts.runAs(member, BERTH, ['-H', td.host, 'ps']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CONTAINER ID/);
  });

  it('tells a user outside the group "permission denied" in one line', async () => {
    const r = await accounts.runAs(outsider, BERTH, ['-H', td.host, 'ps']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `permission denied while trying to connect to the berth daemon socket at ${td.host}: connect: permission denied\n`,
    );
  });

  it('the docker CLI run by an outsider is refused too', async () => {
    const r = await accounts.runAs(outsider, 'docker', ['ps'], { DOCKER_HOST: td.host, DOCKER_CONFIG: '/tmp/nonexistent-docker-config' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /permission denied/);
  });

  it('audits state-changing requests with the uid of the peer: root and a group member', async () => {
    const name = `aud-${accounts.suffix}`;
    const created = await accounts.runAs(member, BERTH, ['-H', td.host, 'create', '--name', name, 'busybox', 'true']);
    assert.equal(created.code, 0, created.stderr);
    const byMember = await waitFor('the member audit line', () =>
      auditLines(td.log).find((l) => l.method === 'POST' && (l.path ?? '').includes('/containers/create') && (l.path ?? '').includes(name)),
    );
    assert.equal(byMember.status, 201);
    assert.equal(byMember.peer?.transport, 'unix');
    assert.equal(byMember.peer?.uid, member.uid);
    assert.equal(byMember.peer?.gid, member.gid);
    assert.ok((byMember.peer?.pid ?? 0) > 0);

    const rm = await td.berth(['rm', name]);
    assert.equal(rm.code, 0, rm.stderr);
    const byRoot = await waitFor('the root audit line', () =>
      auditLines(td.log).find((l) => l.method === 'DELETE' && (l.path ?? '').includes(`/containers/${name}`)),
    );
    assert.equal(byRoot.status, 204);
    assert.equal(byRoot.peer?.uid, 0);
    assert.equal(byRoot.peer?.gid, 0);
    // Reads are not audited.
    assert.equal(auditLines(td.log).filter((l) => !['POST', 'PUT', 'DELETE'].includes(l.method ?? '')).length, 0);
  });

  it('audits start, exec (hijacked) and a forced delete with the uid of the peer', async () => {
    const name = `audx-${accounts.suffix}`;
    const run = await accounts.runAs(member, BERTH, ['-H', td.host, 'run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const ex = await accounts.runAs(member, BERTH, ['-H', td.host, 'exec', name, 'true']);
    assert.equal(ex.code, 0, ex.stderr);
    const rmf = await accounts.runAs(member, BERTH, ['-H', td.host, 'rm', '-f', name]);
    assert.equal(rmf.code, 0, rmf.stderr);
    const byMember = (pred: (l: AuditLine) => boolean, what: string): Promise<AuditLine> =>
      waitFor(what, () => auditLines(td.log).find((l) => l.peer?.uid === member.uid && pred(l)));
    const start = await byMember((l) => l.method === 'POST' && (l.path ?? '').includes(`/containers/${id}/start`), 'the start line');
    assert.equal(start.status, 204);
    const execCreate = await byMember((l) => l.method === 'POST' && (l.path ?? '').includes(`/containers/${name}/exec`), 'the exec create line');
    assert.equal(execCreate.status, 201);
    const execStart = await byMember((l) => l.method === 'POST' && /\/exec\/[0-9a-f]{64}\/start/.test(l.path ?? ''), 'the exec start line');
    assert.ok([101, 200].includes(execStart.status ?? 0), `exec start status ${execStart.status}`);
    const del = await byMember((l) => l.method === 'DELETE' && (l.path ?? '').includes(`/containers/${name}`), 'the delete line');
    assert.equal(del.status, 204);
  });

  it('audits a failed state-changing request with its status', async () => {
    const r = await accounts.runAs(member, BERTH, ['-H', td.host, 'rm', `nosuch-${accounts.suffix}`]);
    assert.notEqual(r.code, 0);
    const line = await waitFor('the 404 audit line', () => auditLines(td.log).find((l) => (l.path ?? '').includes(`nosuch-${accounts.suffix}`)));
    assert.equal(line.status, 404);
    assert.equal(line.peer?.uid, member.uid);
  });

  it('a container does not see the engine socket unless it is bind-mounted on purpose', async (t) => {
    const probe = `for p in ${td.socket} /run/berth.sock /var/run/berth.sock /var/run/docker.sock; do [ -e "$p" ] && echo "FOUND $p"; done; grep -c "${td.root}" /proc/mounts; echo end`;
    const r = await td.berth(['run', '--rm', 'busybox', 'sh', '-c', probe]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /FOUND/);
    assert.match(r.stdout, /^0\nend\n$/m);

    // On purpose: -v SOCKET:/var/run/docker.sock puts it there (Docker's documented trade-off).
    const mounted = await td.berth(['run', '--rm', '-v', `${td.socket}:/var/run/docker.sock`, 'busybox', 'sh', '-c', 'test -S /var/run/docker.sock && echo socket-present']);
    if (mounted.code !== 0 && /invalid|not supported|unknown/i.test(mounted.stderr)) {
      // Bind mounts arrive with the volumes work; the negative half above is the security property.
      t.diagnostic(`bind mounts not available yet: ${mounted.stderr.trim()}`);
      return;
    }
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.match(mounted.stdout, /socket-present/);
  });
});

describe('unix socket creation', () => {
  it('never shows the socket with a wider mode, even when berthd starts under umask 000', async () => {
    const accounts = new TestAccounts();
    const group = accounts.group('w');
    const td = new TestDaemon(['--group', group]);
    const seen: Array<{ name: string; mode: number; socket: boolean; dir: boolean }> = [];
    const look = (name: string): void => {
      let st: Stats;
      try {
        st = lstatSync(join(td.root, name));
      } catch {
        return;
      }
      seen.push({ name, mode: st.mode & 0o777, socket: st.isSocket(), dir: st.isDirectory() });
    };
    const watcher = watch(td.root, (_event, name) => {
      if (name) look(name);
    });
    // A tight poll as well: fs.watch events arrive after the fact.
    let polling = true;
    const poll = (async (): Promise<void> => {
      while (polling) {
        look('s.sock');
        await new Promise((r) => setImmediate(r));
      }
    })();
    const oldMask = process.umask(0);
    try {
      await td.start();
    } finally {
      process.umask(oldMask);
      polling = false;
      await poll;
      watcher.close();
    }
    try {
      const sockets = seen.filter((s) => s.socket);
      assert.ok(sockets.length > 0, 'the socket was observed');
      for (const s of sockets) {
        assert.equal(s.name, 's.sock', `a socket appeared at ${s.name}`);
        assert.equal(s.mode, 0o660, `socket seen with mode ${s.mode.toString(8)}`);
      }
      for (const d of seen.filter((s) => s.dir && s.name.startsWith('.berthd-'))) assert.equal(d.mode, 0o700);
      assert.equal(lstatSync(td.socket).mode & 0o777, 0o660);
    } finally {
      await td.cleanup();
      accounts.remove();
    }
  });

  it('makes a root-only socket (root:root 0600) with --group "" (what a missing default group falls back to)', async () => {
    const td = await startDaemon(['--group', '']);
    try {
      const st = lstatSync(td.socket);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.gid, 0);
    } finally {
      await td.cleanup();
    }
  });

  it('refuses to start when the group named with --group does not exist', () => {
    const root = mkdtempSync('/tmp/bt-');
    try {
      const r = spawnSync(
        BERTHD,
        ['--data-root', join(root, 'd'), '--exec-root', join(root, 'x'), '-H', `unix://${join(root, 's.sock')}`, '--group', `nosuchgroup${process.pid}`],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`--group "nosuchgroup${process.pid}": no such group`));
      assert.deepEqual(readdirSync(root), [], 'nothing was created');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
