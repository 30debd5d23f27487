/**
 * `berth build` / `berth image build` / `berth builder build`: the docker
 * CLI's legacy build — the context (a directory, `-` for stdin, or a URL the
 * daemon fetches) sent as a tar with `.dockerignore` applied, options in the
 * query of `POST /build`, every stored credential in `X-Registry-Config`; the
 * daemon's JSON stream rendered as docker renders it ("Sending build context
 * to Docker daemon", then the steps), or, with `--progress tty` on a
 * terminal, one line per step with the running step's last output line.
 * A failing RUN exits with its own code, as docker's does.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError } from '../../errors.js';
import { displayJSONMessages } from '../../format/jsonDisplay.js';
import { humanSize } from '../../format/units.js';
import { JSONMessageError } from '../../../client/errors.js';
import { readJSONMessages } from '../../../client/jsonMessages.js';
import { storedCredentials } from '../../../distribution/credentials.js';
import { parseNormalizedNamed } from '../../../reference/index.js';
import { ImageApi } from './imageApi.js';
import { dockerConfigFile } from './registryAuth.js';
import {
  contextFromStdin,
  counted,
  dockerfileInContext,
  injectedDockerfile,
  readAll,
  tarDirectory,
  type ContextTar,
} from './buildContext.js';
import { renderCompact } from './buildProgress.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] PATH | URL | -',
  short: 'Build an image from a Dockerfile',
  aliases: ['image build', 'build', 'builder build'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping ("host:ip")' },
    { name: 'build-arg', type: 'list', usage: 'Set build-time variables' },
    { name: 'cache-from', type: 'list', valueName: 'strings', usage: 'Images to consider as cache sources' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'file', short: 'f', type: 'string', usage: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    { name: 'force-rm', type: 'bool', usage: 'Always remove intermediate containers' },
    { name: 'iidfile', type: 'string', usage: 'Write the image ID to the file' },
    { name: 'label', type: 'list', usage: 'Set metadata for an image' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', usage: 'Memory limit' },
    { name: 'network', type: 'string', usage: 'Set the networking mode for the RUN instructions during build', default: 'default' },
    { name: 'no-cache', type: 'bool', usage: 'Do not use cache when building the image' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable', default: process.env['BERTH_DEFAULT_PLATFORM'] ?? '' },
    { name: 'progress', type: 'string', usage: 'Set type of progress output (auto, plain, tty)', default: 'auto' },
    { name: 'pull', type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the build output and print image ID on success' },
    { name: 'rm', type: 'bool', usage: 'Remove intermediate containers after a successful build', default: true },
    { name: 'secret', type: 'list', valueName: 'stringArray', usage: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")' },
    { name: 'shm-size', type: 'string', valueName: 'bytes', usage: 'Size of "/dev/shm"' },
    { name: 'tag', short: 't', type: 'list', usage: 'Name and optionally a tag in the "name:tag" format' },
    { name: 'target', type: 'string', usage: 'Set the target build stage to build.' },
    { name: 'ulimit', type: 'list', valueName: 'ulimit', usage: 'Ulimit options' },
  ],
};

type QueryPairs = Array<[string, string]>;

/** units.RAMInBytes: "512m", "1g", "1024" → bytes. */
function ramInBytes(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid argument "${v}" for "${flag}" flag: invalid size: '${v}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** `--build-arg K` takes K's value from this environment (opts.ValidateEnv); unset stays null. */
function buildArgs(list: string[], env: NodeJS.ProcessEnv): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i === 0) throw new Error(`invalid argument "${a}" for "--build-arg" flag: invalid environment variable: ${a}`);
    if (i > 0) out[a.slice(0, i)] = a.slice(i + 1);
    else out[a] = env[a] ?? null;
  }
  return out;
}

function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

function parseUlimits(list: string[]): Array<{ Name: string; Hard: number; Soft: number }> {
  return list.map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m) throw new Error(`invalid argument "${u}" for "--ulimit" flag: invalid ulimit argument: ${u}`);
    const soft = Number(m[2]);
    return { Name: m[1] as string, Hard: m[3] !== undefined ? Number(m[3]) : soft, Soft: soft };
  });
}

/** X-Registry-Config: every credential in the docker config file (GetAllCredentials). */
async function allCredentials(env: NodeJS.ProcessEnv): Promise<string> {
  const path = dockerConfigFile(env);
  const out: Record<string, { username?: string; password?: string; serveraddress?: string; identitytoken?: string }> = {};
  let keys: string[] = [];
  try {
    const cfg = JSON.parse(readFileSync(path, 'utf8')) as { auths?: Record<string, unknown> };
    keys = Object.keys(cfg.auths ?? {});
  } catch {
    keys = [];
  }
  for (const k of keys) {
    const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const c = await storedCredentials(host === 'index.docker.io' ? 'docker.io' : host, path).catch(() => undefined);
    if (c) out[k] = { ...c, serveraddress: k };
  }
  return Buffer.from(JSON.stringify(out)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** --secret id=…,src=… (or env=…): berth sends secrets inside the context, under names no COPY sees. */
function parseSecrets(list: string[], env: NodeJS.ProcessEnv): Array<{ id: string; data: Buffer }> {
  return list.map((s) => {
    const f = keyValues(s.split(','));
    const id = f['id'] ?? '';
    if (id === '' || !/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`invalid secret ${s}: an id of letters, digits, ".", "_" and "-" is required`);
    const src = f['src'] ?? f['source'];
    if (src !== undefined) return { id, data: readFileSync(src) };
    const v = env[f['env'] ?? id];
    if (v === undefined) throw new Error(`secret ${id}: no src given and no environment variable ${f['env'] ?? id}`);
    return { id, data: Buffer.from(v) };
  });
}

/** How the context goes: a tar to send, or a URL for the daemon to fetch. */
async function prepareContext(ctx: CliContext, source: string, file: string, secrets: Array<{ id: string; data: Buffer }>): Promise<{ tar: ContextTar | null; remote: string }> {
  if (/^(https?|git):\/\//.test(source) || source.startsWith('git@') || source.startsWith('github.com/')) {
    return { tar: null, remote: source };
  }
  if (source === '-') {
    if (file === '-') throw new Error('invalid argument: can\'t use stdin for both build context and dockerfile');
    if (secrets.length > 0) throw new Error('--secret needs a context directory');
    return { tar: await contextFromStdin(ctx.stdin, file || 'Dockerfile'), remote: '' };
  }
  let st;
  try {
    st = statSync(source);
  } catch {
    throw new Error(`unable to prepare context: path "${source}" not found`);
  }
  if (!st.isDirectory()) throw new Error(`unable to prepare context: context must be a directory: ${source}`);
  const extra: Array<{ name: string; data: Buffer }> = [];
  let dockerfile = 'Dockerfile';
  if (file === '-') {
    const inj = injectedDockerfile(source, await readAll(ctx.stdin));
    dockerfile = inj.name;
    extra.push(...inj.extra);
  } else if (file !== '') {
    const rel = dockerfileInContext(source, file);
    if (rel === null) {
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch {
        throw new Error(`unable to prepare context: the Dockerfile (${file}) cannot be read`);
      }
      const inj = injectedDockerfile(source, data);
      dockerfile = inj.name;
      extra.push(...inj.extra);
    } else dockerfile = rel;
  }
  for (const s of secrets) extra.push({ name: `.berth-secret.${s.id}`, data: s.data });
  if (secrets.length > 0 && !extra.some((e) => e.name === '.dockerignore')) {
    let text = '';
    try {
      text = readFileSync(`${source}/.dockerignore`, 'utf8');
    } catch {
      text = '';
    }
    extra.unshift({ name: '.dockerignore', data: Buffer.from(`${text}\n.berth-secret.*\n`) });
  }
  return { tar: { stream: tarDirectory(source, dockerfile, extra), dockerfile }, remote: '' };
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const source = p.args[0] as string;
  const quiet = p.bool('quiet');
  const tags = p.list('tag');
  for (const t of tags) {
    try {
      parseNormalizedNamed(t);
    } catch (e) {
      throw new Error(`invalid argument "${t}" for "-t, --tag" flag: ${(e as Error).message}`);
    }
  }
  const secrets = parseSecrets(p.list('secret'), ctx.env);
  const { tar, remote } = await prepareContext(ctx, source, p.string('file'), secrets);
  const query: QueryPairs = [];
  for (const t of tags) query.push(['t', t]);
  for (const h of p.list('add-host')) query.push(['extrahosts', h]);
  if (quiet) query.push(['q', '1']);
  if (remote) query.push(['remote', remote]);
  if (p.bool('no-cache')) query.push(['nocache', '1']);
  query.push(['rm', p.bool('rm') || !p.changed('rm') ? '1' : '0']);
  if (p.bool('force-rm')) query.push(['forcerm', '1']);
  if (p.bool('pull')) query.push(['pull', '1']);
  query.push(['cpusetcpus', p.string('cpuset-cpus')]);
  query.push(['networkmode', p.string('network') || 'default']);
  query.push(['cpushares', String(p.int('cpu-shares'))]);
  query.push(['memory', p.string('memory') ? String(ramInBytes(p.string('memory'), '-m, --memory')) : '0']);
  query.push(['shmsize', p.string('shm-size') ? String(ramInBytes(p.string('shm-size'), '--shm-size')) : '0']);
  query.push(['dockerfile', tar ? tar.dockerfile : p.string('file')]);
  query.push(['target', p.string('target')]);
  query.push(['ulimits', JSON.stringify(parseUlimits(p.list('ulimit')))]);
  query.push(['buildargs', JSON.stringify(buildArgs(p.list('build-arg'), ctx.env))]);
  query.push(['labels', JSON.stringify(keyValues(p.list('label')))]);
  query.push(['cachefrom', JSON.stringify(p.list('cache-from'))]);
  if (secrets.length > 0) query.push(['berthsecrets', JSON.stringify(secrets.map((s) => s.id))]);
  if (p.string('platform') !== '') query.push(['platform', p.string('platform').toLowerCase()]);
  query.push(['version', '1']);

  const progress = p.string('progress') || 'auto';
  if (!['auto', 'plain', 'tty'].includes(progress)) throw new Error(`invalid progress mode "${progress}": use auto, plain or tty`);
  const compact = !quiet && (progress === 'tty' || (progress === 'auto' && ctx.stdout.isTTY === true));

  let sent = 0;
  let body: Readable | undefined;
  if (tar) {
    body = counted(tar.stream, (n) => {
      sent = n;
      if (!quiet && !compact && ctx.stdout.isTTY === true) ctx.out(`\rSending build context to Docker daemon  ${humanSize(n)}`);
    });
  }
  const api = new ImageApi(ctx.client);
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar', 'X-Registry-Config': await allCredentials(ctx.env) };
  let res: http.IncomingMessage;
  try {
    res = await api.request('POST', '/build', { query, ...(body ? { body } : {}), headers });
  } finally {
    if (tar && !quiet && !compact) ctx.out(`${ctx.stdout.isTTY === true ? '\r' : ''}Sending build context to Docker daemon  ${humanSize(sent)}\n`);
  }
  let imageId = '';
  try {
    if (quiet) {
      let text = '';
      try {
        for await (const m of readJSONMessages(res)) {
          if (m.aux && typeof m.aux === 'object' && 'ID' in m.aux) imageId = String((m.aux as { ID: unknown }).ID);
          if (m.stream) text += m.stream;
        }
      } catch (e) {
        // As docker: the output held back by -q is shown when the build fails.
        ctx.err(text);
        throw e;
      }
      ctx.out(text);
      imageId ||= text.trim();
    } else if (compact) {
      imageId = await renderCompact(res, ctx.stdout);
    } else {
      await displayJSONMessages(res, ctx.stdout, {
        onAux: (m) => {
          if (m.aux && typeof m.aux === 'object' && 'ID' in m.aux) imageId = String((m.aux as { ID: unknown }).ID);
        },
      });
    }
  } catch (e) {
    if (e instanceof JSONMessageError) throw new StatusError(e.message, e.code && e.code > 0 ? e.code : 1);
    throw e;
  }
  const iidfile = p.string('iidfile');
  if (iidfile !== '') {
    if (imageId === '') throw new Error(`Server did not provide an image ID. Cannot write ${iidfile}`);
    writeFileSync(iidfile, imageId, { mode: 0o666 });
  }
  return 0;
}
