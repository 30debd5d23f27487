/**
 * bench/pull-push-phases: one pull or push through the Engine API (berthd or dockerd, on a unix
 * socket), with every JSON progress message time-stamped on arrival, so the run can be cut into
 * phases per layer: manifest → first "Downloading" → "Download complete" → first "Extracting" →
 * "Pull complete" (push: "Preparing" → first "Pushing" → "Pushed"). Prints one JSON object:
 * {totalMs, firstMessageMs, lastLayerDoneMs, layers: {id: {event: ms-since-request}}}.
 * It only reads the daemon's answer; it never changes anything but what the pull/push itself does.
 * Usage: node --import tsx bench/pull-push-phases.ts SOCKET pull IMAGE:TAG
 *        node --import tsx bench/pull-push-phases.ts SOCKET push IMAGE:TAG
 */
import { request } from 'node:http';

const [socketPath, op, ref] = process.argv.slice(2);
if (socketPath === undefined || (op !== 'pull' && op !== 'push') || ref === undefined) {
  throw new Error('usage: pull-push-phases.ts SOCKET pull|push IMAGE:TAG');
}
const colon = ref.lastIndexOf(':');
const name = colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
const tag = colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
// API 1.41: what dockerd 20.10 speaks; berthd accepts it too.
const path =
  op === 'pull'
    ? `/v1.41/images/create?fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`
    : `/v1.41/images/${encodeURIComponent(name)}/push?tag=${encodeURIComponent(tag)}`;

interface Msg {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

const t0 = performance.now();
const ms = (): number => Math.round((performance.now() - t0) * 10) / 10;
const layers: Record<string, Record<string, number>> = {};
let firstMessageMs = -1;
let lastLayerDoneMs = -1;
let error = '';

const req = request({
  socketPath,
  path,
  method: 'POST',
  headers: { 'X-Registry-Auth': Buffer.from('{}').toString('base64'), 'Content-Type': 'application/json' },
});
req.on('response', (res) => {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    const at = ms();
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const m = JSON.parse(line) as Msg;
      if (firstMessageMs < 0) firstMessageMs = at;
      if (m.error !== undefined || m.errorDetail !== undefined) error = m.error ?? m.errorDetail?.message ?? 'error';
      if (m.id === undefined || m.status === undefined || !/^[0-9a-f]{12}$/.test(m.id)) continue;
      const ev = (layers[m.id] ??= {});
      // Keep the first time of each status (Downloading/Extracting/Pushing repeat).
      if (ev[m.status] === undefined) ev[m.status] = at;
      ev[`last ${m.status}`] = at;
      if (m.status === 'Pull complete' || m.status === 'Pushed' || m.status === 'Layer already exists' || m.status === 'Already exists') {
        lastLayerDoneMs = Math.max(lastLayerDoneMs, at);
      }
    }
  });
  res.on('end', () => {
    const out = { op, ref, status: res.statusCode, totalMs: ms(), firstMessageMs, lastLayerDoneMs, error, layers };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    if (error !== '' || (res.statusCode ?? 500) >= 300) process.exitCode = 1;
  });
});
req.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 1;
});
req.end();
