/**
 * exec under conmon (`conmon --exec`) against real runc: output through the exec's
 * own attach socket with nothing lost, stdin and its EOF, TTY, exit codes, and
 * runc's error for a missing command.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { attach, resize, type AttachConnection } from '../../../src/runtime/attach.js';
import { ExecStartError, readExecExit } from '../../../src/runtime/execSession.js';
import type { OciProcess } from '../../../src/runtime/ociTypes.js';
import { RuntimeHarness, readAll, skipReason, type TestContainer } from './fixtures.js';

describe('exec under conmon (real conmon + runc)', { skip: skipReason }, () => {
  let h: RuntimeHarness;
  let c: TestContainer;
  let n = 0;
  before(async () => {
    h = await RuntimeHarness.create();
    c = await h.newContainer('execbox', ['/bin/sh', '-c', 'echo main > /tmp/main; while true; do sleep 1; done']);
    await h.runtime.start(c.id);
  });
  after(async () => {
    await h.cleanup();
  });

  async function processFor(args: string[], terminal = false): Promise<OciProcess> {
    const spec = JSON.parse(await readFile(join(c.bundleDir, 'config.json'), 'utf8')) as { process: OciProcess };
    return { ...spec.process, args, terminal };
  }

  function execDir(): string {
    n++;
    return join(c.dir, `exec${n}`);
  }

  it('attached: sees all of stdout and stderr apart, then the exit code; the exit file agrees', async () => {
    const dir = execDir();
    let conn: AttachConnection | undefined;
    let out: Promise<string> = Promise.resolve('');
    let err: Promise<string> = Promise.resolve('');
    const s = await h.runtime.exec({
      containerId: c.id,
      execId: 'e1',
      dir,
      process: await processFor(['/bin/sh', '-c', 'cat /tmp/main; echo to-err >&2; exit 5']),
      tty: false,
      stdin: false,
      beforeStart: async () => {
        conn = await attach(dir, { stdin: false });
        out = readAll(conn.stdout);
        err = readAll(conn.stderr);
      },
    });
    assert.ok(s.pid > 0);
    assert.equal(await s.exited, 5);
    assert.equal(await out, 'main\n');
    assert.equal(await err, 'to-err\n');
    assert.equal(await readExecExit(dir), 5);
    assert.ok(conn);
  });

  it('stdin reaches the process and closing it ends cat', async () => {
    const dir = execDir();
    let conn: AttachConnection | undefined;
    let out: Promise<string> = Promise.resolve('');
    const s = await h.runtime.exec({
      containerId: c.id,
      execId: 'e2',
      dir,
      process: await processFor(['/bin/cat']),
      tty: false,
      stdin: true,
      beforeStart: async () => {
        conn = await attach(dir, { stdin: true });
        out = readAll(conn.stdout);
      },
    });
    await conn?.writeStdin('hello exec\n');
    await conn?.closeStdin();
    assert.equal(await out, 'hello exec\n');
    assert.equal(await s.exited, 0);
  });

  it('TTY: the process gets a terminal that resize reaches', async () => {
    const dir = execDir();
    let out: Promise<string> = Promise.resolve('');
    const proc = await processFor(['/bin/sh', '-c', 'sleep 0.3; tty; stty size'], true);
    proc.consoleSize = { height: 20, width: 70 };
    const s = await h.runtime.exec({
      containerId: c.id,
      execId: 'e3',
      dir,
      process: proc,
      tty: true,
      stdin: false,
      beforeStart: async () => {
        const conn = await attach(dir, { stdin: false });
        out = readAll(conn.stdout);
      },
    });
    await resize(dir, { rows: 33, cols: 99 });
    assert.equal(await s.exited, 0);
    const text = await out;
    assert.match(text, /\/dev\/pts\/\d+/);
    assert.match(text, /33 99/);
  });

  it('detached: runs without anyone attached and reports its exit', async () => {
    const s = await h.runtime.exec({
      containerId: c.id,
      execId: 'e4',
      dir: execDir(),
      process: await processFor(['/bin/sh', '-c', 'echo ignored; exit 2']),
      tty: false,
      stdin: false,
    });
    assert.equal(await s.exited, 2);
  });

  it('a missing command is ExecStartError with runc message and code 127', async () => {
    await assert.rejects(
      h.runtime.exec({
        containerId: c.id,
        execId: 'e5',
        dir: execDir(),
        process: await processFor(['nosuchcmd']),
        tty: false,
        stdin: false,
      }),
      (e: unknown) => e instanceof ExecStartError && e.exitCode === 127 && /executable file not found/.test(e.message),
    );
  });
});
