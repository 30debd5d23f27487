/**
 * Child process for lifecycle.test.ts: creates and starts one container from a JSON
 * request on stdin, prints {pid, conmonPid}, and exits — leaving the container behind.
 */
import { ConmonRuntime, type CreateOptions, type RuntimePaths } from '../../../src/runtime/conmonRuntime.js';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const req = JSON.parse(Buffer.concat(chunks).toString()) as { runtime: RuntimePaths; create: CreateOptions };
const rt = new ConmonRuntime(req.runtime);
const res = await rt.create(req.create);
await rt.start(req.create.id);
process.stdout.write(JSON.stringify(res));
