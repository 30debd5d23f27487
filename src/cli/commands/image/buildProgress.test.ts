// The compact build view (`berth build --progress tty`): one line per step, CACHED on hits, the running
// step's output redrawn in place, the image ID returned, a failed step's last lines shown before the error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { renderCompact, FAILED_STEP_TAIL_LINES } from './buildProgress.js';
import type { OutStream } from '../../context.js';

function sink(columns = 100): { out: OutStream; text: () => string } {
  let buf = '';
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      buf += c.toString();
      cb();
    },
  }) as OutStream;
  w.columns = columns;
  return { out: w, text: () => buf };
}

const stream = (msgs: object[]): Readable => Readable.from([msgs.map((m) => JSON.stringify(m)).join('\r\n')]);
/** What a terminal would show: redrawn lines (ESC[2K + CR) replaced by what follows them. */
const screen = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.split('\x1b[2K\r').pop() ?? '')
    .join('\n');

describe('renderCompact', () => {
  it('prints a line per step, CACHED for hits, and returns the image ID', async () => {
    const { out, text } = sink();
    const id = await renderCompact(
      stream([
        { stream: 'Step 1/3 : FROM busybox\n' },
        { stream: ' ---> 0123456789ab\n' },
        { stream: 'Step 2/3 : COPY a /a\n' },
        { stream: ' ---> Using cache\n' },
        { stream: ' ---> 1123456789ab\n' },
        { stream: 'Step 3/3 : RUN make\n' },
        { stream: ' ---> Running in 2123456789ab\n' },
        { stream: 'compiling\n' },
        { stream: 'linking\n' },
        { stream: ' ---> Removed intermediate container 2123456789ab\n' },
        { stream: ' ---> 3123456789ab\n' },
        { aux: { ID: 'sha256:3123' } },
        { stream: 'Successfully built 3123456789ab\n' },
        { stream: 'Successfully tagged x:1\n' },
      ]),
      out,
    );
    assert.equal(id, 'sha256:3123');
    assert.equal(screen(text()), '[1/3] FROM busybox\n[2/3] COPY a /a CACHED\n[3/3] RUN make\nSuccessfully built 3123456789ab\nSuccessfully tagged x:1\n');
    assert.match(text(), /\x1b\[2K\r {4}linking/, 'the running step\'s latest line is drawn in place');
  });

  it('shows the failed step\'s last output lines, then rethrows the error', async () => {
    const { out, text } = sink();
    const lines = Array.from({ length: FAILED_STEP_TAIL_LINES + 3 }, (_, i) => ({ stream: `line ${i}\n` }));
    await assert.rejects(
      renderCompact(stream([{ stream: 'Step 1/2 : FROM busybox\n' }, { stream: 'Step 2/2 : RUN false\n' }, ...lines, { errorDetail: { code: 1, message: 'boom' }, error: 'boom' }]), out),
      /boom/,
    );
    const shown = screen(text()).split('\n').filter((l) => l.startsWith('    line'));
    assert.equal(shown.length, FAILED_STEP_TAIL_LINES);
    assert.equal(shown[shown.length - 1], `    line ${FAILED_STEP_TAIL_LINES + 2}`);
  });

  it('cuts lines to the terminal width', async () => {
    const { out, text } = sink(30);
    await renderCompact(stream([{ stream: `Step 1/1 : RUN ${'x'.repeat(80)}\n` }, { stream: ' ---> Using cache\n' }]), out);
    const first = screen(text()).split('\n')[0] ?? '';
    assert.equal(first.length, 29);
    assert.ok(first.endsWith('…'));
  });
});
