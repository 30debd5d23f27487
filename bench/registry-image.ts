// Writes the benchmark image for bench/registry.sh as an OCI layout: LAYERS layers of random data
// (tar+gzip, so about SIZE_MB in total), a config, a manifest, index.json, oci-layout.
// Usage: node --import tsx bench/registry-image.ts DIR TAG SIZE_MB LAYERS
import { makeImage, writeLayout } from '../test/integration/registry/fixtures.js';

const [dir, tag = 'bench', sizeMb = '200', layers = '4'] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: registry-image.ts DIR TAG SIZE_MB LAYERS');
const n = Number(layers);
const img = makeImage({ layers: n, layerSize: Math.floor((Number(sizeMb) * 1024 * 1024) / n) });
writeLayout(dir, img, tag);
const total = [img.config, ...img.layers, img.manifest].reduce((s, b) => s + b.size, 0);
process.stdout.write(`${img.manifest.digest} ${total}\n`);
