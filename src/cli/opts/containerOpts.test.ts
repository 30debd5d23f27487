import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCommand } from '../parse.js';
import { spec as runSpec } from '../commands/container/run.js';
import { ContainerOptsError, buildContainerConfig, dedupeEnv, parseCPUs, parsePortSpecs, parseRestartPolicy, validateEnv } from './containerOpts.js';

function build(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const o = parseCommand(runSpec, argv, { commandPath: 'berth run' }, 'berth');
  if (o.kind !== 'ok') throw new Error('help');
  const [image, ...args] = o.parsed.args as [string, ...string[]];
  return buildContainerConfig(o.parsed, image, args, [0, 0], env, '/work');
}

describe('buildContainerConfig', () => {
  it('produces docker v28 defaults for a bare `run busybox`', () => {
    const { body } = build(['busybox']);
    assert.equal(body.Image, 'busybox');
    assert.equal(body.AttachStdout, true);
    assert.equal(body.AttachStderr, true);
    assert.equal(body.AttachStdin, false);
    assert.equal(body.Cmd, null);
    assert.equal(body.Env, null);
    assert.equal(body.Entrypoint, null);
    assert.deepEqual(body.Labels, {});
    assert.deepEqual(body.Volumes, {});
    assert.equal(body.HostConfig.NetworkMode, 'default');
    assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(body.HostConfig.MemorySwappiness, -1);
    assert.equal(body.HostConfig.PidsLimit, 0);
    assert.deepEqual(Object.keys(body.NetworkingConfig.EndpointsConfig), ['default']);
    assert.equal('Init' in body.HostConfig, false);
    assert.equal('StopTimeout' in body, false);
  });

  it('maps -it, --rm, resources and identity flags', () => {
    const { body, autoRemove, name } = build([
      '-it', '--rm', '--name', 'web', '-m', '512m', '--memory-swap', '-1', '--cpus', '1.5', '--cpu-shares', '512',
      '--pids-limit', '100', '-w', '/srv', '-u', '1000:1000', '-h', 'box', '-l', 'a=b', '-l', 'flag',
      '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--network', 'none', '--init',
      'busybox', 'sh', '-c', 'exit 3',
    ]);
    assert.equal(autoRemove, true);
    assert.equal(name, 'web');
    assert.equal(body.Tty, true);
    assert.equal(body.OpenStdin, true);
    assert.equal(body.AttachStdin, true);
    assert.equal(body.StdinOnce, true);
    assert.deepEqual(body.Cmd, ['sh', '-c', 'exit 3']);
    assert.equal(body.HostConfig.Memory, 512 * 1024 * 1024);
    assert.equal(body.HostConfig.MemorySwap, -1);
    assert.equal(body.HostConfig.NanoCpus, 1_500_000_000);
    assert.equal(body.HostConfig.CpuShares, 512);
    assert.equal(body.HostConfig.PidsLimit, 100);
    assert.equal(body.WorkingDir, '/srv');
    assert.equal(body.User, '1000:1000');
    assert.equal(body.Hostname, 'box');
    assert.deepEqual(body.Labels, { a: 'b', flag: '' });
    assert.equal(body.StopSignal, 'SIGINT');
    assert.equal(body.StopTimeout, 5);
    assert.equal(body.HostConfig.NetworkMode, 'none');
    assert.deepEqual(body.NetworkingConfig.EndpointsConfig, {});
    assert.equal(body.HostConfig.Init, true);
  });

  it('merges --env-file then -e, last -e value per key winning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-envfile-'));
    try {
      const f = path.join(dir, 'env');
      writeFileSync(f, '\uFEFF# comment\nFILE_A=1\n  FILE_B=two words \nFROM_CLIENT\nMISSING\n');
      const { body } = build(['--env-file', f, '-e', 'X=1', '-e', 'Y', '-e', 'X=2', 'img'], { FROM_CLIENT: 'c', Y: 'y' });
      assert.deepEqual(body.Env, ['FILE_A=1', 'FILE_B=two words ', 'FROM_CLIENT=c', 'X=2', 'Y']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets Entrypoint to [""] for an explicit empty --entrypoint', () => {
    assert.deepEqual(build(['--entrypoint', '', 'img']).body.Entrypoint, ['']);
    assert.deepEqual(build(['--entrypoint', '/bin/sh', 'img']).body.Entrypoint, ['/bin/sh']);
  });

  it('splits -v into Binds (with a source) and Volumes (anonymous)', () => {
    const { body } = build(['-v', '/data', '-v', './rel:/in:ro', '-v', 'named:/n', 'img']);
    assert.deepEqual(body.Volumes, { '/data': {} });
    assert.deepEqual(body.HostConfig.Binds, ['/work/rel:/in:ro', 'named:/n']);
  });

  it('refuses --rm with a restart policy, as docker does', () => {
    assert.throws(() => build(['--rm', '--restart', 'always', 'img']), (e: unknown) => e instanceof ContainerOptsError && /cannot specify both --restart and --rm/.test(e.message));
  });
});

describe('option value parsers', () => {
  it('validateEnv keeps KEY=VAL, fills KEY from the client, keeps unknown KEY', () => {
    assert.equal(validateEnv('A=1', {}), 'A=1');
    assert.equal(validateEnv('A', { A: 'x' }), 'A=x');
    assert.equal(validateEnv('A', {}), 'A');
    assert.throws(() => validateEnv('=1', {}), /invalid environment variable: =1/);
  });

  it('dedupeEnv keeps first position and last value', () => {
    assert.deepEqual(dedupeEnv(['A=1', 'B=2', 'A=3']), ['A=3', 'B=2']);
  });

  it('parseCPUs is exact to the nanosecond', () => {
    assert.equal(parseCPUs('0.5'), 500_000_000);
    assert.equal(parseCPUs('3/2'), 1_500_000_000);
    assert.equal(parseCPUs('2'), 2_000_000_000);
    assert.throws(() => parseCPUs('0.0000000001'), /value is too precise/);
    assert.throws(() => parseCPUs('x'), /failed to parse x as a rational number/);
  });

  it('parseRestartPolicy reads name[:count]', () => {
    assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.throws(() => parseRestartPolicy(':3'), /no policy provided before colon/);
  });

  it('parsePortSpecs expands ranges and host bindings', () => {
    assert.deepEqual(parsePortSpecs(['127.0.0.1:8080-8081:80-81/udp', '9000']), {
      exposed: { '80/udp': {}, '81/udp': {}, '9000/tcp': {} },
      bindings: {
        '80/udp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
        '81/udp': [{ HostIp: '127.0.0.1', HostPort: '8081' }],
        '9000/tcp': [{ HostIp: '', HostPort: '' }],
      },
    });
  });
});
