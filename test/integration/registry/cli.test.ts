// `berth registry serve` and `berth registry gc` as processes: one line when listening, a clean stop
// on SIGTERM/SIGINT, flags (read-only, auth, bad input), and gc run repeatedly while skopeo pushes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import {
  BERTH,
  errorCode,
  layoutDigest,
  makeImage,
  pushImage,
  req,
  runAsync,
  sha256,
  skopeo,
  startRegistryProcess,
  tempDir,
  writeLayout,
  NO_SKOPEO,
} from './fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const berth = (args: string[]) => runAsync(process.execPath, [BERTH, ...args], 60_000);

describe('berth registry serve (process)', () => {
  let work: string;
  before(() => {
    work = tempDir('cli');
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints one line when listening, serves, and exits 0 on ${signal}`, async () => {
      const root = join(work, `root-${signal}`);
      const p = await startRegistryProcess(['--root', root]);
      try {
        assert.match(p.line, /^berth registry listening on http:\/\/127\.0\.0\.1:\d+ \(root .*, auth none\)$/);
        const img = makeImage({ layers: 1 });
        await pushImage(`http://${p.host}`, 'cli/img', img, 'v1');
        const r = await req('GET', `http://${p.host}/v2/cli/img/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
        assert.deepEqual(r.body, img.manifest.data);
      } finally {
        p.child.kill(signal);
        assert.equal(await p.stop(), 0, p.stderr());
      }
    });
  }

  it('a registry killed (SIGKILL) mid-upload shows no partial blob after a restart; the push is redone whole', async () => {
    const root = join(work, 'crash');
    let p = await startRegistryProcess(['--root', root]);
    const data = randomBytes(24 << 20);
    const digest = sha256(data);
    try {
      const start = await req('POST', `http://${p.host}/v2/crash/img/blobs/uploads/`);
      assert.equal(start.status, 202);
      const loc = new URL(String(start.headers['location']), `http://${p.host}`);
      loc.searchParams.set('digest', digest);
      // The closing PUT streams its body; the registry dies a third of the way in.
      const put = request(loc, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) } });
      const ended = new Promise<void>((resolve) => {
        put.on('error', () => resolve());
        put.on('response', (res) => {
          res.resume();
          res.on('close', () => resolve());
        });
      });
      put.write(data.subarray(0, 8 << 20));
      await new Promise((r) => setTimeout(r, 300));
      p.child.kill('SIGKILL');
      await p.stop();
      await ended;
      put.destroy();
      p = await startRegistryProcess(['--root', root]);
      const head = await req('HEAD', `http://${p.host}/v2/crash/img/blobs/${digest}`);
      assert.equal(head.status, 404, 'no partial blob is visible');
      assert.ok(!readdirSync(join(root, 'content', 'blobs', 'sha256')).includes(digest.slice(7)));
      const again = await req('POST', `http://${p.host}/v2/crash/img/blobs/uploads/?digest=${digest}`, { body: data });
      assert.equal(again.status, 201, again.body.toString());
      const whole = await req('GET', `http://${p.host}/v2/crash/img/blobs/${digest}`);
      assert.equal(whole.status, 200);
      assert.equal(sha256(whole.body), digest);
    } finally {
      await p.stop();
    }
  });

  it('--read-only refuses pushes with 405 UNSUPPORTED', async () => {
    const p = await startRegistryProcess(['--root', join(work, 'ro'), '--read-only']);
    try {
      assert.match(p.line, /read-only/);
      const r = await req('POST', `http://${p.host}/v2/x/blobs/uploads/`);
      assert.equal(r.status, 405);
      assert.equal(errorCode(r), 'UNSUPPORTED');
    } finally {
      await p.stop();
    }
  });

  it('--htpasswd with --token-issuer and --anonymous-pull: skopeo pushes with credentials, pulls without', { skip: NO_SKOPEO }, async () => {
    const htpasswd = join(work, 'htpasswd');
    writeFileSync(htpasswd, `ci:${bcrypt.hashSync('secret', 5)}\n`);
    const p = await startRegistryProcess(['--root', join(work, 'tok'), '--htpasswd', htpasswd, '--token-issuer', 'berth-cli', '--anonymous-pull']);
    try {
      assert.match(p.line, /auth token/);
      const img = makeImage({ layers: 1 });
      writeLayout(join(work, 'tok-src'), img, 'v1');
      const push = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'ci:secret', `oci:${join(work, 'tok-src')}:v1`, `docker://${p.host}/cli/tok:v1`]);
      assert.equal(push.code, 0, push.stderr);
      const pull = await skopeo(['copy', '--src-tls-verify=false', `docker://${p.host}/cli/tok:v1`, `oci:${join(work, 'tok-out')}:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(layoutDigest(join(work, 'tok-out'), 'v1'), img.manifest.digest);
    } finally {
      await p.stop();
    }
  });

  it('--acl: tokens grant what the rules allow; an edited ACL file applies without a restart', async () => {
    const users = join(work, 'acl-users');
    writeFileSync(users, `ci:${bcrypt.hashSync('secret', 4)}\n`);
    const acl = join(work, 'rules.acl');
    writeFileSync(acl, '* ${user}/** pull,push\n');
    const p = await startRegistryProcess(['--root', join(work, 'acl'), '--htpasswd', users, '--token-issuer', 'berth-cli', '--acl', acl]);
    const granted = async (scope: string): Promise<unknown> => {
      const r = await req('GET', `http://${p.host}/token?service=berth-cli&scope=${scope}`, { headers: { Authorization: `Basic ${Buffer.from('ci:secret').toString('base64')}` } });
      assert.equal(r.status, 200, r.body.toString());
      return (JSON.parse(Buffer.from(r.json<{ token: string }>().token.split('.')[1] as string, 'base64url').toString()) as { access: unknown }).access;
    };
    try {
      assert.deepEqual(await granted('repository:ci/app:push'), [{ type: 'repository', name: 'ci/app', actions: ['push'] }]);
      assert.deepEqual(await granted('repository:other/app:pull'), []);
      writeFileSync(acl, '* ${user}/** pull,push\nci other/** pull\n');
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(await granted('repository:other/app:pull'), [{ type: 'repository', name: 'other/app', actions: ['pull'] }]);
      assert.match(p.stderr(), /reloaded ACL file/);
    } finally {
      await p.stop();
    }
  });

  it('bad flags are refused with a message: TLS half given, token without users, unreadable htpasswd, bad addr, bad ACL', async () => {
    const users = join(work, 'users');
    writeFileSync(users, `ci:${bcrypt.hashSync('secret', 4)}\n`);
    const badAcl = join(work, 'bad.acl');
    writeFileSync(badAcl, '# rules\nci ci/** pull,fly\n');
    const cases: [string[], number, RegExp][] = [
      [['--tls-cert', '/nonexistent'], 125, /--tls-cert and --tls-key go together/],
      [['--token-issuer', 'x'], 125, /--token-issuer needs --htpasswd/],
      [['--htpasswd', join(work, 'missing')], 1, /cannot read htpasswd file/],
      [['--addr', 'nonsense'], 125, /invalid --addr/],
      [['--acl', badAcl], 125, /--acl needs --htpasswd/],
      [['--htpasswd', users, '--acl', join(work, 'missing.acl')], 1, /cannot read ACL file/],
      [['--htpasswd', users, '--acl', badAcl], 1, /bad\.acl:2: unknown action "fly"/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await berth(['registry', 'serve', '--root', join(work, 'bad'), ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });

  it('gc runs while skopeo pushes: every push lands whole; once the manifests are deleted gc frees all', { skip: NO_SKOPEO }, async () => {
    const root = join(work, 'gc');
    const p = await startRegistryProcess(['--root', root]);
    let stop = false;
    let gcRuns = 0;
    const gcLoop = (async () => {
      while (!stop) {
        const r = await berth(['registry', 'gc', '--root', root]);
        assert.equal(r.code, 0, r.stderr);
        gcRuns++;
      }
    })();
    const images = [];
    try {
      for (let i = 0; i < 4; i++) {
        const img = makeImage({ layers: 3, layerSize: 512 * 1024 });
        writeLayout(join(work, `gc-src${i}`), img, 'v1');
        const r = await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, `gc-src${i}`)}:v1`, `docker://${p.host}/cli/gc${i}:v1`]);
        assert.equal(r.code, 0, r.stderr);
        images.push(img);
      }
      stop = true;
      await gcLoop;
      assert.ok(gcRuns >= 1);
      for (let i = 0; i < images.length; i++) {
        const out = join(work, `gc-out${i}`);
        const r = await skopeo(['copy', '--src-tls-verify=false', `docker://${p.host}/cli/gc${i}:v1`, `oci:${out}:v1`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(layoutDigest(out, 'v1'), images[i]!.manifest.digest);
      }
      for (let i = 0; i < images.length; i++) {
        assert.equal((await req('DELETE', `http://${p.host}/v2/cli/gc${i}/manifests/${images[i]!.manifest.digest}`)).status, 202);
      }
      const dry = await berth(['registry', 'gc', '--root', root, '--grace', '0s', '--dry-run']);
      assert.match(dry.stdout, /^20 blobs, would free \d+ bytes$/m);
      const real = await berth(['registry', 'gc', '--root', root, '--grace', '0s']);
      assert.equal(real.code, 0, real.stderr);
      assert.equal(real.stdout.split('\n').filter((l) => l.startsWith('deleted sha256:')).length, 20);
      assert.equal((await req('GET', `http://${p.host}/v2/cli/gc0/blobs/${images[0]!.layers[0]!.digest}`)).status, 404);
    } finally {
      stop = true;
      await gcLoop.catch(() => undefined);
      await p.stop();
    }
  });

  it('gc of a directory without a registry fails with a message', async () => {
    const r = await berth(['registry', 'gc', '--root', join(work, 'empty-dir')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no registry at/);
  });
});
