// Test vectors re-typed from distribution/reference v0.6 regexp_test.go, plus
// timing tests that hostile input is rejected in linear time.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  anchoredDomainRegexp,
  anchoredIdentifierRegexp,
  anchoredNameRegexp,
  anchoredReferenceRegexp,
} from './regexp.js';

const HEX = 'be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';

interface Case {
  input: string;
  match: boolean;
  subs?: (string | undefined)[];
}

/** Go returns '' for a group that did not take part; JS returns undefined. */
function checkRegexp(re: RegExp, tc: Case): void {
  const m = re.exec(tc.input);
  if (!tc.match) {
    assert.equal(m, null, `unexpected match for ${JSON.stringify(tc.input)}`);
    return;
  }
  assert.notEqual(m, null, `expected match for ${JSON.stringify(tc.input)}`);
  assert.equal(m?.[0], tc.input);
  (tc.subs ?? []).forEach((want, i) => {
    assert.equal(m?.[i + 1] ?? '', want ?? '', `submatch ${i + 1} of ${tc.input}`);
  });
}

describe('domain grammar (TestDomainRegexp)', () => {
  const cases: [string, boolean][] = [
    ['test.com', true],
    ['test.com:10304', true],
    ['test.com:http', false],
    ['localhost', true],
    ['localhost:8080', true],
    ['a', true],
    ['a.b', true],
    ['ab.cd.com', true],
    ['a-b.com', true],
    ['-ab.com', false],
    ['ab-.com', false],
    ['ab.c-om', true],
    ['ab.-com', false],
    ['ab.com-', false],
    ['0101.com', true],
    ['001a.com', true],
    ['b.gbc.io:443', true],
    ['b.gbc.io', true],
    ['xn--n3h.com', true],
    ['Asdf.com', true],
    ['192.168.1.1:75050', true],
    ['192.168.1.1:750050', true],
    ['[fd00:1:2::3]:75050', true],
    ['[fd00:1:2::3]75050', false],
    ['[fd00:1:2::3]::75050', false],
    ['[fd00:1:2::3%eth0]:75050', false],
    ['[fd00123123123]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505', true],
    ['fd00:1:2::3:75050', false],
  ];
  for (const [input, match] of cases) {
    it(`${match ? 'accepts' : 'rejects'} domain ${input}`, () => {
      assert.equal(anchoredDomainRegexp.test(input), match);
    });
  }
});

describe('name grammar (TestFullNameRegexp)', () => {
  it('has exactly two capture groups (domain, path)', () => {
    assert.equal(new RegExp(`${anchoredNameRegexp.source}|`).exec('')?.length, 3);
  });
  const cases: Case[] = [
    { input: '', match: false },
    { input: 'short', match: true, subs: ['', 'short'] },
    { input: 'simple/name', match: true, subs: ['simple', 'name'] },
    { input: 'library/ubuntu', match: true, subs: ['library', 'ubuntu'] },
    { input: 'docker/stevvooe/app', match: true, subs: ['docker', 'stevvooe/app'] },
    {
      input: 'aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb',
      match: true,
      subs: ['aa', 'aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb'],
    },
    { input: 'aa/aa/bb/bb/bb', match: true, subs: ['aa', 'aa/bb/bb/bb'] },
    { input: 'a/a/a/a', match: true, subs: ['a', 'a/a/a'] },
    { input: 'a/a/a/a/', match: false },
    { input: 'a//a/a', match: false },
    { input: 'a', match: true, subs: ['', 'a'] },
    { input: 'a/aa', match: true, subs: ['a', 'aa'] },
    { input: 'a/aa/a', match: true, subs: ['a', 'aa/a'] },
    { input: 'foo.com', match: true, subs: ['', 'foo.com'] },
    { input: 'foo.com/', match: false },
    { input: 'foo.com:8080/bar', match: true, subs: ['foo.com:8080', 'bar'] },
    { input: 'foo.com:http/bar', match: false },
    { input: 'foo.com/bar', match: true, subs: ['foo.com', 'bar'] },
    { input: 'foo.com/bar/baz', match: true, subs: ['foo.com', 'bar/baz'] },
    { input: 'localhost:8080/bar', match: true, subs: ['localhost:8080', 'bar'] },
    { input: 'sub-dom1.foo.com/bar/baz/quux', match: true, subs: ['sub-dom1.foo.com', 'bar/baz/quux'] },
    { input: 'blog.foo.com/bar/baz', match: true, subs: ['blog.foo.com', 'bar/baz'] },
    { input: 'a^a', match: false },
    { input: 'aa/asdf$$^/aa', match: false },
    { input: 'asdf$$^/aa', match: false },
    { input: 'aa-a/a', match: true, subs: ['aa-a', 'a'] },
    { input: 'a/'.repeat(128) + 'a', match: true, subs: ['a', 'a/'.repeat(127) + 'a'] },
    { input: 'a-/a/a/a', match: false },
    { input: 'foo.com/a-/a/a', match: false },
    { input: '-foo/bar', match: false },
    { input: 'foo/bar-', match: false },
    { input: 'foo-/bar', match: false },
    { input: 'foo/-bar', match: false },
    { input: '_foo/bar', match: false },
    { input: 'foo_bar', match: true, subs: ['', 'foo_bar'] },
    { input: 'foo_bar.com', match: true, subs: ['', 'foo_bar.com'] },
    { input: 'foo_bar.com:8080', match: false },
    { input: 'foo_bar.com:8080/app', match: false },
    { input: 'foo.com/foo_bar', match: true, subs: ['foo.com', 'foo_bar'] },
    { input: '____/____', match: false },
    { input: '_docker/_docker', match: false },
    { input: 'docker_/docker_', match: false },
    { input: 'b.gcr.io/test.example.com/my-app', match: true, subs: ['b.gcr.io', 'test.example.com/my-app'] },
    { input: 'xn--n3h.com/myimage', match: true, subs: ['xn--n3h.com', 'myimage'] },
    { input: 'xn--7o8h.com/myimage', match: true, subs: ['xn--7o8h.com', 'myimage'] },
    { input: 'example.com/xn--7o8h.com/myimage', match: true, subs: ['example.com', 'xn--7o8h.com/myimage'] },
    {
      input: 'example.com/some_separator__underscore/myimage',
      match: true,
      subs: ['example.com', 'some_separator__underscore/myimage'],
    },
    { input: 'example.com/__underscore/myimage', match: false },
    { input: 'example.com/..dots/myimage', match: false },
    { input: 'example.com/.dots/myimage', match: false },
    { input: 'example.com/nodouble..dots/myimage', match: false },
    { input: 'docker./docker', match: false },
    { input: '.docker/docker', match: false },
    { input: 'docker-/docker', match: false },
    { input: '-docker/docker', match: false },
    { input: 'do..cker/docker', match: false },
    { input: 'do__cker:8080/docker', match: false },
    { input: 'do__cker/docker', match: true, subs: ['', 'do__cker/docker'] },
    {
      input: 'registry.io/foo/project--id.module--name.ver---sion--name',
      match: true,
      subs: ['registry.io', 'foo/project--id.module--name.ver---sion--name'],
    },
    { input: 'Asdf.com/foo/bar', match: true },
    { input: 'Foo/FarB', match: false },
    // Beyond upstream's table: the separator rules one by one.
    { input: 'a___b', match: false },
    { input: 'a._b', match: false },
    { input: 'a-_b', match: false },
    { input: 'a.b_c__d---e', match: true, subs: ['', 'a.b_c__d---e'] },
  ];
  for (const tc of cases) {
    it(`${tc.match ? 'matches' : 'rejects'} name ${JSON.stringify(tc.input.slice(0, 60))}`, () => {
      checkRegexp(anchoredNameRegexp, tc);
    });
  }
});

describe('reference grammar (TestReferenceRegexp)', () => {
  it('has exactly three capture groups (name, tag, digest)', () => {
    assert.equal(new RegExp(`${anchoredReferenceRegexp.source}|`).exec('')?.length, 4);
  });
  const cases: Case[] = [
    { input: 'registry.com:8080/myapp:tag', match: true, subs: ['registry.com:8080/myapp', 'tag', ''] },
    {
      input: `registry.com:8080/myapp@sha256:${HEX}`,
      match: true,
      subs: ['registry.com:8080/myapp', '', `sha256:${HEX}`],
    },
    {
      input: `registry.com:8080/myapp:tag2@sha256:${HEX}`,
      match: true,
      subs: ['registry.com:8080/myapp', 'tag2', `sha256:${HEX}`],
    },
    { input: 'registry.com:8080/myapp@sha256:badbadbadbad', match: false },
    { input: 'registry.com:8080/myapp:invalid~tag', match: false },
    { input: 'bad_hostname.com:8080/myapp:tag', match: false },
    // localhost without a path is a name, and 8080 its tag
    { input: `localhost:8080@sha256:${HEX}`, match: true, subs: ['localhost', '8080', `sha256:${HEX}`] },
    { input: `localhost:8080/name@sha256:${HEX}`, match: true, subs: ['localhost:8080/name', '', `sha256:${HEX}`] },
    { input: `localhost:http/name@sha256:${HEX}`, match: false },
    { input: `localhost@sha256:${HEX}`, match: true, subs: ['localhost', '', `sha256:${HEX}`] },
    { input: 'registry.com:8080/myapp@bad', match: false },
    { input: 'registry.com:8080/myapp@2bad', match: false },
    // Beyond upstream's table: tag length and the generic digest algorithm grammar.
    { input: `a:${'t'.repeat(128)}`, match: true, subs: ['a', 't'.repeat(128), ''] },
    { input: `a:${'t'.repeat(129)}`, match: false },
    { input: 'a:-tag', match: false },
    { input: 'a:.tag', match: false },
    { input: 'a:_tag.1-x', match: true, subs: ['a', '_tag.1-x', ''] },
    { input: `a@sha256+b64u.x_y-z:${'F'.repeat(32)}`, match: true, subs: ['a', '', `sha256+b64u.x_y-z:${'F'.repeat(32)}`] },
    { input: `a@sha256:${'f'.repeat(31)}`, match: false },
    { input: `a@1sha:${'f'.repeat(32)}`, match: false },
    { input: `a@sha..x:${'f'.repeat(32)}`, match: false },
  ];
  for (const tc of cases) {
    it(`${tc.match ? 'matches' : 'rejects'} reference ${JSON.stringify(tc.input.slice(0, 70))}`, () => {
      checkRegexp(anchoredReferenceRegexp, tc);
    });
  }
});

describe('identifier grammar (TestIdentifierRegexp)', () => {
  const cases: [string, boolean][] = [
    ['da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', true],
    ['7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C', false],
    ['da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf', false],
    ['sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', false],
    ['da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482', false],
  ];
  for (const [input, match] of cases) {
    it(`${match ? 'accepts' : 'rejects'} identifier ${input}`, () => {
      assert.equal(anchoredIdentifierRegexp.test(input), match);
    });
  }
});

describe('hostile input is rejected in linear time', () => {
  // Each shape targets one repetition in the grammar, ending in a character
  // that makes the whole match fail so a backtracking engine must give back.
  // Shapes are source text because they run inside a worker (see below).
  const shapes: Record<string, string> = {
    'one long component': `'a'.repeat(n) + '!'`,
    'many dotted domain labels': `'a.'.repeat(n / 2) + '!'`,
    'two-letter labels': `'ab.'.repeat(n / 3) + '!'`,
    'dashed label': `'a' + '-'.repeat(n) + '!'`,
    'dashes between letters': `'a-'.repeat(n / 2) + '!'`,
    'underscores': `'a_'.repeat(n / 2) + '_!'`,
    'triple underscores': `'a___'.repeat(n / 4)`,
    'many path components': `'a/'.repeat(n / 2) + '!'`,
    'domain then many components': `'example.com:5000/' + 'a/'.repeat(n / 2) + 'A!'`,
    'unterminated ipv6': `'[' + ':'.repeat(n) + '/a'`,
    'ipv6 then junk': `'[::1]:' + '5'.repeat(n) + 'x/a'`,
    'long port': `'host:' + '1'.repeat(n) + '!'`,
    'long tag': `'a:' + 'b'.repeat(n)`,
    'colons': `'a:'.repeat(n / 2)`,
    'long digest algorithm': `'a@' + 'b'.repeat(n) + '!'`,
    'dotted digest algorithm': `'a@' + 'b.'.repeat(n / 2) + ':'`,
    'long digest hex': `'a@sha256:' + 'f'.repeat(n) + '!'`,
    'upper case everywhere': `'A'.repeat(n) + '/B'`,
    'ats': `'@'.repeat(n)`,
  };
  // A catastrophic regexp blocks its thread, so no in-thread timeout could
  // stop it: one worker runs every shape, announcing each, and is terminated
  // when a shape overruns its deadline.
  const workerSource = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      // Loader hooks from --import tsx do not reach workers on Node 20.
      const { tsImport } = await import('tsx/esm/api');
      const { parseReference } = await tsImport(workerData.reference, workerData.reference);
      const { parseNormalizedNamed, parseAnyReference } = await tsImport(workerData.normalize, workerData.normalize);
      const attempt = (s) => {
        for (const parse of [parseReference, parseNormalizedNamed, parseAnyReference]) {
          try { parse(s); } catch {}
        }
      };
      for (const [name, shape] of workerData.shapes) {
        parentPort.postMessage({ name, started: true });
        const make = new Function('n', 'return ' + shape);
        attempt(make(64));
        const times = [];
        for (const n of [10000, 200000]) {
          const t = performance.now();
          attempt(make(n));
          times.push(performance.now() - t);
        }
        parentPort.postMessage({ name, times });
      }
      parentPort.postMessage({ done: true });
    })().catch((e) => parentPort.postMessage({ error: String(e) }));`;
  type Msg = { name?: string; started?: boolean; times?: number[]; done?: boolean; error?: string };
  const results = new Map<string, number[] | string>();
  const runAll = (deadlineMs: number): Promise<void> =>
    new Promise((resolve) => {
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: {
          shapes: Object.entries(shapes),
          reference: new URL('./reference.ts', import.meta.url).href,
          normalize: new URL('./normalize.ts', import.meta.url).href,
        },
      });
      let current = '(start-up)';
      let timer: NodeJS.Timeout | undefined;
      const finish = (why?: string): void => {
        clearTimeout(timer);
        if (why !== undefined) results.set(current, why);
        void worker.terminate();
        resolve();
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(`did not finish within ${deadlineMs} ms`), deadlineMs);
      };
      arm();
      worker.on('message', (m: Msg) => {
        if (m.error !== undefined) return finish(m.error);
        if (m.done === true) return finish();
        if (m.name === undefined) return;
        current = m.name;
        if (m.times !== undefined) results.set(m.name, m.times);
        arm();
      });
      worker.once('error', (e) => finish(String(e)));
    });
  before(() => runAll(5000));
  for (const name of Object.keys(shapes)) {
    it(`rejects 10 KB and 200 KB of "${name}" quickly`, () => {
      const result = results.get(name) ?? results.get('(start-up)') ?? 'not run: an earlier shape overran';
      assert.ok(Array.isArray(result), String(result));
      const [small = Infinity, big = Infinity] = result;
      assert.ok(small < 100, `10 KB took ${small.toFixed(1)} ms`);
      // Quadratic behaviour at 200 KB would take many seconds.
      assert.ok(big < 1000, `200 KB took ${big.toFixed(1)} ms`);
    });
  }
});
