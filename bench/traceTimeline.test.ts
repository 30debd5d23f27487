import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdown, parseStrace } from './traceTimeline.js';
import { summarize } from './stats.js';

// A trimmed `strace -f -ttt -q` of one `docker run --rm` against berthd (pid 100), in the shapes
// strace really prints: unfinished/resumed pairs, PATH search failures, Go threads (CLONE_THREAD),
// a clone inside the container's PID namespace (returns 2) and writev responses.
const TRACE = [
  '100 10.000000 execve("bin/berthd", ["bin/berthd", "-H", "unix:///x.sock"], 0x7ffd /* 30 vars */) = 0',
  '100 10.001000 clone3({flags=CLONE_VM|CLONE_FS|CLONE_THREAD|CLONE_SIGHAND, child_tid=0x1} => {parent_tid=[101]}, 88) = 101',
  '101 10.002000 read(30, "/** a module */", 100) = 15',
  '100 11.010000 read(24, "HEAD /_ping HTTP/1.1\\r\\nHost: api.moby.localhost\\r\\n\\r\\n", 65536) = 50',
  '100 11.011000 writev(24, [{iov_base="HTTP/1.1 200 OK\\r\\nApi-Version: 1.51\\r\\n", iov_len=30}], 1) = 30',
  '100 11.020000 read(24, "POST /v1.50/containers/create HTTP/1.1\\r\\nHost: x\\r\\n", 65536) = 60',
  '100 11.030000 write(1, "{\\"level\\":30,\\"msg\\":\\"StatusCode in a log line\\"}\\n", 40) = 40',
  '100 11.040000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>',
  '200 11.045000 execve("/root/.cargo/bin/mount", ["mount", "-t", "overlay"], 0x75 /* 39 vars */) = -1 ENOENT (No such file or directory)',
  '200 11.046000 execve("/usr/bin/mount", ["mount", "-t", "overlay"], 0x75 /* 39 vars */ <unfinished ...>',
  '100 11.041000 <... clone resumed>, child_tidptr=0x7f) = 200',
  '200 11.047000 <... execve resumed>) = 0',
  '200 11.060000 exit_group(0)                  = ?',
  '200 11.061000 +++ exited with 0 +++',
  '100 11.070000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 300',
  '300 11.072000 execve("/usr/sbin/runc", ["/usr/sbin/runc", "--root=/r", "start", "abc"], 0x7 /* 39 vars */) = 0',
  '300 11.073000 clone3({flags=CLONE_VM|CLONE_THREAD, child_tid=0x2} => {parent_tid=[301]}, 88) = 301',
  '300 11.080000 clone(child_stack=NULL, flags=SIGCHLD) = 310',
  '310 11.081000 execve("/proc/self/exe", ["/usr/sbin/runc", "init"], 0x7 /* 7 vars */) = 0',
  '310 11.082000 clone3({flags=CLONE_VM|CLONE_THREAD} => {parent_tid=[2]}, 88) = 2',
  '310 11.090000 execve("/bin/true", ["true"], 0xc0 /* 3 vars */) = 0',
  '399 11.091000 +++ exited with 0 +++',
  '301 11.094000 +++ exited with 0 +++',
  '310 11.095000 exit_group(0)                  = ?',
  '300 11.096000 exit_group(0 <unfinished ...>',
  '300 11.097000 <... exit_group resumed>)       = ?',
  '300 11.098000 +++ exited with 0 +++',
  '100 11.110000 writev(24, [{iov_base="1e", iov_len=2}, {iov_base="{\\"StatusCode\\":0,\\"Error\\":null}\\n", iov_len=30}], 2) = 32',
].join('\n');

test('parseStrace names helper processes by program and runc subcommand, and the container by its command', () => {
  const t = parseStrace(TRACE);
  assert.equal(t.daemonPid, 100);
  const labels = t.segments.map((s) => `${s.pid}:${s.label}`);
  assert.deepEqual(labels, [
    '100:berthd',
    '200:berthd fork→exec',
    '200:mount',
    '300:berthd fork→exec',
    '300:runc start',
    '310:runc start',
    '310:runc init',
    '310:container: true',
  ]);
  const mount = t.segments.find((s) => s.label === 'mount');
  assert.ok(mount !== undefined);
  // The successful execve's start time, not the failed PATH candidates'; ends at exit_group.
  assert.equal(mount.start, 11.046);
  assert.equal(mount.end, 11.06);
});

test('parseStrace ignores exits of threads it cannot map (made inside a PID namespace)', () => {
  const t = parseStrace(TRACE);
  assert.ok(!t.segments.some((s) => s.pid === 399 || s.pid === 301 || s.pid === 2));
});

test('parseStrace takes requests from reads, responses from write/writev, and skips log writes', () => {
  const t = parseStrace(TRACE);
  assert.deepEqual(
    t.http.map((h) => h.text),
    ['HEAD /_ping', '→ 200 OK', 'POST /containers/create', '→ wait result (StatusCode)'],
  );
});

test('breakdown splits a run into client start-up, helpers, daemon alone and client tear-down', () => {
  const t = parseStrace(TRACE);
  const b = breakdown(t, 11.0, 11.13);
  const close = (a: number, e: number): void => assert.ok(Math.abs(a - e) < 1e-6, `${a} ≈ ${e}`);
  close(b.totalMs, 130);
  close(b.clientStartMs, 10); // 11.000 → first request read at 11.010
  close(b.clientEndMs, 20); // last response write 11.110 → CLI exit 11.130
  // Helpers (runc init excluded), fork→exec included: 11.040–11.060 and 11.070–11.096 = 46 ms.
  close(b.helpersMs, 46);
  close(b.daemonAloneMs, 100 - 46);
  close(b.byLabel.get('mount') ?? 0, 14);
  close(b.byLabel.get('runc start') ?? 0, 24);
  close(b.byLabel.get('container: true') ?? 0, 5);
  assert.equal(b.byLabel.has('runc init'), false);
  assert.equal(b.events[0]?.text, 'CLI process started');
  assert.equal(b.events[b.events.length - 1]?.text, 'CLI process exited');
});

test('summarize gives the median of an even sample as the mean of the middle two and p90 by nearest rank', () => {
  const s = summarize([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
  assert.equal(s.median, 5.5);
  assert.equal(s.p90, 9);
  assert.equal(s.min, 1);
  assert.equal(s.max, 10);
  assert.equal(summarize([3]).p90, 3);
});
