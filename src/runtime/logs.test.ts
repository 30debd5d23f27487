import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLogLine, parseTimestampNs, readLogs, type LogEntry, type ReadLogsOptions } from './logs.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function logFile(lines: string[]): Promise<string> {
  const p = join(dir, `log-${n++}.log`);
  await writeFile(p, lines.map((l) => `${l}\n`).join(''));
  return p;
}

/** ts(i) = 2026-01-01T00:00:i.000000001Z style timestamps, i seconds apart. */
function ts(i: number): string {
  return `2026-01-01T00:00:${String(i).padStart(2, '0')}.${String(i).padStart(9, '0')}+00:00`;
}

async function collect(path: string, opts: ReadLogsOptions = {}): Promise<{ stream: string; text: string; time: Date }[]> {
  const out: { stream: string; text: string; time: Date }[] = [];
  for await (const e of readLogs(path, opts)) out.push({ stream: e.stream, text: e.data.toString(), time: e.time });
  return out;
}

describe('parseLogLine / parseTimestampNs', () => {
  it('parses conmon’s RFC3339Nano timestamp with an offset to nanoseconds', () => {
    assert.equal(parseTimestampNs('2026-11-28T07:08:55.989925247+00:00'), BigInt(Date.UTC(2026, 10, 28, 7, 8, 55)) * 1_000_000n + 989925247n);
    assert.equal(parseTimestampNs('2026-11-28T09:08:55.5+02:00'), BigInt(Date.UTC(2026, 10, 28, 7, 8, 55)) * 1_000_000n + 500000000n);
    assert.equal(parseTimestampNs('yesterday'), null);
  });

  it('parses a record, an empty record, and rejects garbage', () => {
    const r = parseLogLine(Buffer.from(`${ts(1)} stderr P half a line`));
    assert.equal(r?.stream, 'stderr');
    assert.equal(r?.partial, true);
    assert.equal(r?.text.toString(), 'half a line');
    assert.equal(parseLogLine(Buffer.from(`${ts(1)} stdout F `))?.text.length, 0);
    assert.equal(parseLogLine(Buffer.from(`${ts(1)} stdout F`))?.text.length, 0);
    assert.equal(parseLogLine(Buffer.from(`${ts(1)} stdin F x`)), null);
    assert.equal(parseLogLine(Buffer.from('not a log line')), null);
  });
});

describe('readLogs', () => {
  it('reads every entry with its stream, time and a trailing newline', async () => {
    const p = await logFile([`${ts(1)} stdout F hello`, `${ts(2)} stderr F oops`, `${ts(3)} stdout F `]);
    const got = await collect(p);
    assert.deepEqual(
      got.map((e) => [e.stream, e.text]),
      [
        ['stdout', 'hello\n'],
        ['stderr', 'oops\n'],
        ['stdout', '\n'],
      ],
    );
    assert.equal(got[0]?.time.toISOString(), '2026-01-01T00:00:01.000Z');
  });

  it('joins P pieces with the following F of the same stream, even with the other stream in between', async () => {
    const p = await logFile([`${ts(1)} stdout P ab`, `${ts(2)} stderr F err`, `${ts(3)} stdout P cd`, `${ts(4)} stdout F ef`]);
    const got = await collect(p);
    assert.deepEqual(
      got.map((e) => [e.stream, e.text]),
      [
        ['stderr', 'err\n'],
        ['stdout', 'abcdef\n'],
      ],
    );
    assert.equal(got[1]?.time.getUTCSeconds(), 1, 'an entry carries its first piece’s time');
  });

  it('ends with a final partial as is, without a newline', async () => {
    const p = await logFile([`${ts(1)} stdout F a`, `${ts(2)} stdout P no-newline`]);
    assert.deepEqual((await collect(p)).map((e) => e.text), ['a\n', 'no-newline']);
  });

  it('keeps the original nanosecond timestamp string', async () => {
    const p = await logFile([`2026-11-28T07:08:55.989925247+00:00 stdout F x`]);
    const entries: LogEntry[] = [];
    for await (const e of readLogs(p)) entries.push(e);
    assert.equal(entries[0]?.timeNano, '2026-11-28T07:08:55.989925247+00:00');
  });

  it('tail returns the last N entries, 0 returns none, -1 all', async () => {
    const p = await logFile(Array.from({ length: 10 }, (_, i) => `${ts(i)} stdout F line${i}`));
    assert.deepEqual((await collect(p, { tail: 3 })).map((e) => e.text), ['line7\n', 'line8\n', 'line9\n']);
    assert.deepEqual(await collect(p, { tail: 0 }), []);
    assert.equal((await collect(p, { tail: -1 })).length, 10);
    assert.equal((await collect(p, { tail: 50 })).length, 10);
  });

  it('tail counts a joined entry once and includes its earlier P pieces', async () => {
    const p = await logFile([
      `${ts(1)} stdout F old`,
      `${ts(2)} stdout P ab`,
      `${ts(3)} stderr F e1`,
      `${ts(4)} stdout P cd`,
      `${ts(5)} stdout F ef`,
    ]);
    assert.deepEqual((await collect(p, { tail: 1 })).map((e) => e.text), ['abcdef\n']);
    assert.deepEqual((await collect(p, { tail: 2 })).map((e) => e.text), ['e1\n', 'abcdef\n']);
    assert.deepEqual((await collect(p, { tail: 3 })).map((e) => e.text), ['old\n', 'e1\n', 'abcdef\n']);
  });

  it('tail reads a big file backwards and gets the last lines right across chunk borders', async () => {
    const p = join(dir, 'big.log');
    const lines: string[] = [];
    for (let i = 0; i < 30000; i++) lines.push(`${ts(i % 60)} stdout F ${'x'.repeat(i % 97)} #${i}`);
    await writeFile(p, lines.join('\n') + '\n');
    const got = await collect(p, { tail: 5 });
    assert.deepEqual(
      got.map((e) => e.text.split('#')[1]),
      ['29995\n', '29996\n', '29997\n', '29998\n', '29999\n'],
    );
  });

  it('since and until keep entries inside the window (inclusive)', async () => {
    const p = await logFile(Array.from({ length: 6 }, (_, i) => `2026-01-01T00:00:0${i}.000000000Z stdout F l${i}`));
    const since = new Date('2026-01-01T00:00:02Z');
    const until = new Date('2026-01-01T00:00:04Z');
    assert.deepEqual((await collect(p, { since, until })).map((e) => e.text), ['l2\n', 'l3\n', 'l4\n']);
    assert.deepEqual((await collect(p, { tail: 2, since })).map((e) => e.text), ['l4\n', 'l5\n']);
  });

  it('since and until in nanoseconds separate entries less than a millisecond apart', async () => {
    const p = await logFile(['2026-01-01T00:00:00.000000100Z stdout F a', '2026-01-01T00:00:00.000000200Z stdout F b', '2026-01-01T00:00:00.000000300Z stdout F c']);
    const ns = (s: string): bigint => parseTimestampNs(s) ?? 0n;
    assert.deepEqual((await collect(p, { since: ns('2026-01-01T00:00:00.000000200Z') })).map((e) => e.text), ['b\n', 'c\n']);
    assert.deepEqual((await collect(p, { until: ns('2026-01-01T00:00:00.000000200Z') })).map((e) => e.text), ['a\n', 'b\n']);
  });

  it('skips an unterminated last line being written and malformed lines', async () => {
    const p = join(dir, 'torn.log');
    await writeFile(p, `${ts(1)} stdout F ok\ngarbage here\n${ts(2)} stdout F to`);
    assert.deepEqual((await collect(p)).map((e) => e.text), ['ok\n']);
    assert.deepEqual((await collect(p, { tail: 1 })).map((e) => e.text), ['ok\n']);
  });

  it('a missing file yields nothing without follow', async () => {
    assert.deepEqual(await collect(join(dir, 'nope.log')), []);
  });

  it('follow yields lines as they are appended and drains the rest when stopFollowing resolves', async () => {
    const p = await logFile([`${ts(1)} stdout F first`]);
    let stop!: () => void;
    const stopFollowing = new Promise<void>((r) => (stop = r));
    const got: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { follow: true, stopFollowing, pollMs: 50 })) got.push(e.data.toString());
    })();
    await waitFor(() => got.length === 1);
    // A record written in two pieces (torn write), then a P joined with its F.
    await appendFile(p, `${ts(2)} stdout P sec`);
    await new Promise((r) => setTimeout(r, 80));
    await appendFile(p, `\n${ts(2)} stdout F ond\n${ts(3)} stdout F \n`);
    await waitFor(() => got.length === 3);
    await appendFile(p, `${ts(4)} stderr F last\n${ts(5)} stdout P tail-partial\n`);
    stop();
    await reader;
    assert.deepEqual(got, ['first\n', 'second\n', '\n', 'last\n', 'tail-partial']);
  });

  it('follow ends at once when the signal aborts', async () => {
    const p = await logFile([`${ts(1)} stdout F a`]);
    const ac = new AbortController();
    const got: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { follow: true, signal: ac.signal, pollMs: 50 })) got.push(e.data.toString());
    })();
    await waitFor(() => got.length === 1);
    ac.abort();
    await reader;
    assert.deepEqual(got, ['a\n']);
  });

  it('follow waits for a file that does not exist yet, and survives truncation and replacement', async () => {
    const p = join(dir, 'later.log');
    let stop!: () => void;
    const stopFollowing = new Promise<void>((r) => (stop = r));
    const got: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { follow: true, stopFollowing, pollMs: 30 })) got.push(e.data.toString());
    })();
    await new Promise((r) => setTimeout(r, 80));
    await writeFile(p, `${ts(1)} stdout F one\n`);
    await waitFor(() => got.length === 1);
    await truncate(p, 0);
    await new Promise((r) => setTimeout(r, 80));
    await appendFile(p, `${ts(2)} stdout F two\n`);
    await waitFor(() => got.length === 2);
    const tmp = `${p}.tmp`;
    await writeFile(tmp, `${ts(3)} stdout F three\n`);
    await rename(tmp, p);
    await waitFor(() => got.length === 3);
    stop();
    await reader;
    assert.deepEqual(got, ['one\n', 'two\n', 'three\n']);
  });

  it('follow stops at the first entry after until', async () => {
    const p = await logFile([`2026-01-01T00:00:01.000000000Z stdout F a`, `2026-01-01T00:00:09.000000000Z stdout F late`]);
    const got = await collect(p, { follow: true, until: new Date('2026-01-01T00:00:05Z'), pollMs: 30 });
    assert.deepEqual(got.map((e) => e.text), ['a\n']);
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('readLogs over rotated files', () => {
  async function rotatedSet(files: string[][]): Promise<string> {
    // files[0] is the oldest; the last one is the live file.
    const base = join(dir, `rot-${n++}.log`);
    const live = files.length - 1;
    for (let i = 0; i < files.length; i++) {
      const name = i === live ? base : `${base}.${live - i}`;
      await writeFile(name, (files[i] as string[]).map((l) => `${l}\n`).join(''));
    }
    return base;
  }

  it('reads the oldest rotated file first, then the newer ones, then the live file', async () => {
    const p = await rotatedSet([[`${ts(1)} stdout F a`], [`${ts(2)} stdout F b`, `${ts(3)} stderr F c`], [`${ts(4)} stdout F d`]]);
    assert.deepEqual((await collect(p)).map((e) => e.text), ['a\n', 'b\n', 'c\n', 'd\n']);
  });

  it('tail reaches back into rotated files only as far as needed', async () => {
    const p = await rotatedSet([[`${ts(1)} stdout F a`, `${ts(2)} stdout F b`], [`${ts(3)} stdout F c`], [`${ts(4)} stdout F d`]]);
    assert.deepEqual((await collect(p, { tail: 3 })).map((e) => e.text), ['b\n', 'c\n', 'd\n']);
    assert.deepEqual((await collect(p, { tail: 1 })).map((e) => e.text), ['d\n']);
    assert.deepEqual((await collect(p, { tail: 10 })).map((e) => e.text), ['a\n', 'b\n', 'c\n', 'd\n']);
  });

  it('joins a line whose pieces were split by a rotation', async () => {
    const p = await rotatedSet([[`${ts(1)} stdout P first half `], [`${ts(2)} stdout F second half`]]);
    assert.deepEqual((await collect(p)).map((e) => e.text), ['first half second half\n']);
  });

  it('still reads the rotated files when the live file is gone', async () => {
    const p = await rotatedSet([[`${ts(1)} stdout F a`], [`${ts(2)} stdout F b`]]);
    await rm(p);
    assert.deepEqual((await collect(p)).map((e) => e.text), ['a\n']);
  });
});
