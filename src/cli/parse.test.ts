import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandSpec } from './command.js';
import { StatusError } from './errors.js';
import { parseCommand, preprocessArgv } from './parse.js';
import { spec as runSpec } from './commands/container/run.js';
import { spec as psSpec } from './commands/container/ls.js';
import { spec as stopSpec } from './commands/container/stop.js';

const inv = { commandPath: 'berth run' };

function parseRun(argv: string[]) {
  const o = parseCommand(runSpec, argv, inv, 'berth');
  assert.equal(o.kind, 'ok');
  if (o.kind !== 'ok') throw new Error('unreachable');
  return o.parsed;
}

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('expected a StatusError');
}

describe('run argument parsing', () => {
  it('hands everything after the image to the container, trailing --rm included', () => {
    const p = parseRun(['-it', '--rm', 'busybox', 'sh', '-c', 'ls -l', '--rm']);
    assert.equal(p.bool('interactive'), true);
    assert.equal(p.bool('tty'), true);
    assert.equal(p.bool('rm'), true);
    assert.deepEqual(p.args, ['busybox', 'sh', '-c', 'ls -l', '--rm']);
  });

  it('accepts -e in every pflag spelling, repeatable, in order', () => {
    const p = parseRun(['-e', 'A=1', '--env=B=2', '-eC=3', '-e=D=4', '--env', 'E', 'img']);
    assert.deepEqual(p.list('env').slice(0, 4), ['A=1', 'B=2', 'C=3', 'D=4']);
    assert.equal(p.args[0], 'img');
  });

  it('fills `-e KEY` from the client environment when set, else keeps KEY', () => {
    process.env['BERTH_TEST_ENV_X'] = 'from-client';
    delete process.env['BERTH_TEST_ENV_MISSING'];
    const p = parseRun(['-e', 'BERTH_TEST_ENV_X', '-e', 'BERTH_TEST_ENV_MISSING', 'img']);
    assert.deepEqual(p.list('env'), ['BERTH_TEST_ENV_X=from-client', 'BERTH_TEST_ENV_MISSING']);
  });

  it('reads memory with an attached value and --flag=value forms', () => {
    assert.equal(parseRun(['-m512m', 'img']).string('memory'), '512m');
    assert.equal(parseRun(['--memory=1g', 'img']).string('memory'), '1g');
  });

  it('accepts --bool=false / --bool=true and the negated default of --sig-proxy', () => {
    assert.equal(parseRun(['--sig-proxy=false', 'img']).bool('sig-proxy'), false);
    assert.equal(parseRun(['img']).bool('sig-proxy'), true);
    assert.equal(parseRun(['--rm=true', 'img']).bool('rm'), true);
    const p = parseRun(['--init=false', 'img']);
    assert.equal(p.bool('init'), false);
    assert.equal(p.changed('init'), true);
    assert.equal(parseRun(['-d=false', 'img']).bool('detach'), false);
  });

  it('keeps -h as the hostname and offers only --help for help', () => {
    assert.equal(parseRun(['-h', 'box', 'img']).string('hostname'), 'box');
    assert.deepEqual(parseCommand(runSpec, ['--help'], inv, 'berth'), { kind: 'help' });
  });

  it('gives every flag argv does not name the value it has when named only after the image', () => {
    // After the image every token is the container's, but naming a flag there still has the
    // parser register it with commander: both ways must read back the same defaults.
    const bare = parseRun(['busybox']);
    const named = parseRun(['busybox', ...runSpec.flags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])])]);
    assert.ok(runSpec.flags.length > 50);
    for (const f of runSpec.flags) {
      const read = (p: typeof bare) => (f.type === 'bool' ? p.bool(f.name) : f.type === 'list' ? p.list(f.name) : f.type === 'int' ? p.int(f.name) : p.string(f.name));
      assert.deepEqual(read(bare), read(named), f.name);
      assert.equal(bare.changed(f.name), false, f.name);
    }
    assert.equal(bare.bool('sig-proxy'), true);
    assert.equal(parseRun(['--no-sig-proxy', 'busybox']).bool('sig-proxy'), false);
  });

  it('stops at `--` and passes it through after the image', () => {
    assert.deepEqual(parseRun(['--', 'img', 'x']).args, ['img', 'x']);
    assert.deepEqual(parseRun(['img', '--', 'x']).args, ['img', '--', 'x']);
  });

  it('reports an unknown flag as docker does, exit 125', () => {
    const e = statusOf(() => parseCommand(runSpec, ['--foo', 'img'], inv, 'berth'));
    assert.equal(e.exitCode, 125);
    assert.equal(e.status, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information");
    assert.match(statusOf(() => parseCommand(runSpec, ['-x', 'img'], inv, 'berth')).status, /^unknown shorthand flag: 'x' in -x\n/);
  });

  it('reports a bad value with pflag wording', () => {
    const e = statusOf(() => parseCommand(runSpec, ['-m', '12q', 'img'], inv, 'berth'));
    assert.equal(e.exitCode, 125);
    assert.match(e.status, /^invalid argument "12q" for "-m, --memory" flag: invalid suffix: 'q'\n/);
    assert.match(statusOf(() => parseCommand(runSpec, ['--rm=perhaps', 'img'], inv, 'berth')).status, /strconv\.ParseBool: parsing "perhaps": invalid syntax/);
    assert.match(statusOf(() => parseCommand(runSpec, ['--name'], inv, 'berth')).status, /^flag needs an argument: --name\n/);
  });

  it('reports a missing image as an argument-count error, exit 1', () => {
    const e = statusOf(() => parseCommand(runSpec, [], inv, 'berth'));
    assert.equal(e.exitCode, 1);
    assert.equal(e.status, "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information");
  });
});

describe('other commands', () => {
  it('lets flags follow positionals where docker does (interspersed)', () => {
    const o = parseCommand(stopSpec, ['web', '-t', '3', 'db'], { commandPath: 'berth stop' }, 'berth');
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') {
      assert.deepEqual(o.parsed.args, ['web', 'db']);
      assert.equal(o.parsed.int('timeout'), 3);
      assert.equal(o.parsed.changed('timeout'), true);
    }
  });

  it('gives -n its -1 default and parses --no-trunc as a plain flag', () => {
    const o = parseCommand(psSpec, ['--no-trunc', '-a'], { commandPath: 'berth ps' }, 'berth');
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') {
      assert.equal(o.parsed.int('last'), -1);
      assert.equal(o.parsed.bool('no-trunc'), true);
      assert.equal(o.parsed.bool('all'), true);
    }
    const q = parseCommand(psSpec, [], { commandPath: 'berth ps' }, 'berth');
    if (q.kind === 'ok') assert.equal(q.parsed.bool('no-trunc'), false);
    assert.deepEqual(parseCommand(psSpec, ['-h'], { commandPath: 'berth ps' }, 'berth'), {
      kind: 'help',
      warning: 'Flag shorthand -h has been deprecated, use --help',
    });
    assert.deepEqual(parseCommand(psSpec, ['--help'], { commandPath: 'berth ps' }, 'berth'), { kind: 'help' });
  });

  it('rejects arguments to a command that takes none', () => {
    const e = statusOf(() => parseCommand(psSpec, ['extra'], { commandPath: 'berth ps' }, 'berth'));
    assert.equal(e.exitCode, 1);
    assert.match(e.status, /^berth: 'berth ps' accepts no arguments\n/);
  });
});

describe('preprocessArgv', () => {
  const spec: CommandSpec = {
    usage: '',
    short: '',
    args: { kind: 'none' },
    interspersed: false,
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: '' },
      { name: 'env', short: 'e', type: 'list', usage: '' },
    ],
  };

  it('rewrites only what precedes the first positional', () => {
    assert.deepEqual(preprocessArgv(spec, ['-ae=X', 'img', '--all=false', '-e=Y']), ['-a', '--env=X', 'img', '--all=false', '-e=Y']);
    assert.deepEqual(preprocessArgv(spec, ['--all=0', '-e', '--all=1']), ['--no-all', '--env', '--all=1']);
  });
});
