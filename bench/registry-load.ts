// Manifest GET/HEAD load for bench/registry.sh: C concurrent keep-alive clients (node:http with an
// agent) hammer one URL for D seconds after a 2 s warm-up; prints requests/second and latency percentiles as JSON.
// Usage: node --import tsx bench/registry-load.ts URL METHOD CONCURRENCY SECONDS
import { Agent, request } from 'node:http';

const [url, method = 'GET', conc = '32', secs = '10'] = process.argv.slice(2);
if (url === undefined) throw new Error('usage: registry-load.ts URL METHOD CONCURRENCY SECONDS');
const concurrency = Number(conc);
const durationMs = Number(secs) * 1000;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json';
const latencies: number[] = [];
let errors = 0;
const u = new URL(url);

function one(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const r = request({ host: u.hostname, port: u.port, path: u.pathname, method, agent, headers: { Accept: accept } }, (res) => {
      if (res.statusCode !== 200) errors++;
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        resolve();
      });
    });
    r.on('error', () => {
      errors++;
      resolve();
    });
    r.end();
  });
}

// Warm-up (2 s, same load): opens the connections and lets both sides' JITs settle.
const warmStart = Date.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() - warmStart < Math.min(2000, durationMs)) await one();
  }),
);
latencies.length = 0;
errors = 0;
const start = Date.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() - start < durationMs) await one();
  }),
);
const elapsed = (Date.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    method,
    requests: latencies.length,
    errors,
    rps: Math.round(latencies.length / elapsed),
    p50ms: Number(pct(50).toFixed(2)),
    p99ms: Number(pct(99).toFixed(2)),
  }) + '\n',
);
agent.destroy();
