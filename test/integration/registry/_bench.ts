import { makeImage, pushImage, startRegistryProcess, runAsync } from './fixtures.js';
const p = await startRegistryProcess(['--root', `/tmp/berth-benchroot-${process.pid}`]);
const img = makeImage({ layers: 2 });
await pushImage(`http://${p.host}`, 'bench/img', img, 'v1');
for (const m of ['GET', 'HEAD', 'GET', 'HEAD']) {
  const r = await runAsync(process.execPath, ['--import', 'tsx', 'bench/registry-load.ts', `http://${p.host}/v2/bench/img/manifests/v1`, m, '32', '4']);
  console.log(r.stdout.trim(), r.stderr.slice(0, 200));
}
await p.stop();
