import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { listenUnixSocket, removeUnixSocket } from './unixSocket.js';

function close(s: Server): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

describe('listenUnixSocket', () => {
  it('binds inside a private 0700 directory and only renames the socket into place once its mode is set', async () => {
    const dir = mkdtempSync('/tmp/berth-us-');
    const target = join(dir, 'api.sock');
    const server = createServer();
    let boundAt = '';
    let parentMode = 0;
    const oldMask = process.umask(0); // the worst case: bind() would create the socket 0777
    try {
      const bound = await listenUnixSocket(server, target, { uid: 0, gid: 0 }, 0o660, (p) => {
        boundAt = p;
        parentMode = lstatSync(dirname(p)).mode & 0o777;
      });
      assert.notEqual(boundAt, target);
      assert.equal(dirname(dirname(boundAt)), dir);
      assert.equal(parentMode, 0o700);
      assert.equal(lstatSync(target).mode & 0o777, 0o660);
      assert.deepEqual(readdirSync(dir), ['api.sock'], 'the private directory is gone');
      await close(server);
      await removeUnixSocket(bound);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      process.umask(oldMask);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replaces a symlink planted at the path instead of following it', async () => {
    const dir = mkdtempSync('/tmp/berth-us-');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(dir, 'api.sock'));
    const victimMode = lstatSync(victim).mode;
    const server = createServer();
    try {
      await listenUnixSocket(server, join(dir, 'api.sock'), { uid: 0, gid: 0 }, 0o600);
      assert.ok(lstatSync(join(dir, 'api.sock')).isSocket());
      assert.equal(readFileSync(victim, 'utf8'), 'keep');
      assert.equal(lstatSync(victim).mode, victimMode);
      await close(server);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removeUnixSocket leaves a path that another daemon has since taken', async () => {
    const dir = mkdtempSync('/tmp/berth-us-');
    const target = join(dir, 'api.sock');
    const a = createServer();
    const b = createServer();
    try {
      const first = await listenUnixSocket(a, target, { uid: 0, gid: 0 }, 0o600);
      await listenUnixSocket(b, target, { uid: 0, gid: 0 }, 0o600);
      await removeUnixSocket(first);
      assert.ok(lstatSync(target).isSocket(), 'the second daemon keeps its socket');
      await close(a);
      await close(b);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
