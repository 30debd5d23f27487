// Which stages a build runs (the target and what it needs) and how steps are numbered; build args as
// moby scopes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile/parser.js';
import { planStages } from './stagePlan.js';
import { BuildArgs, prependEnvOnCmd } from './buildArgs.js';

describe('planStages', () => {
  const df = parseDockerfile(
    ['ARG A=1', 'FROM busybox AS base', 'RUN x', 'FROM busybox AS other', 'RUN y', 'FROM base AS mid', 'COPY --from=0 /a /a', 'FROM busybox', 'COPY --from=mid /a /a', 'RUN z', ''].join('\n'),
  );

  it('builds only the target and what it needs, numbering steps over those', () => {
    const p = planStages(df, '', new Map(), 0);
    assert.deepEqual(p.needed, [0, 2, 3]);
    assert.equal(p.total, 1 + 2 + 2 + 3);
    assert.equal(p.firstStep.get(0), 2);
    assert.equal(p.firstStep.get(2), 4);
    assert.equal(p.firstStep.get(3), 6);
  });

  it('stops at --target and refuses an unknown one', () => {
    assert.deepEqual(planStages(df, 'other', new Map(), 0).needed, [1]);
    assert.throws(() => planStages(df, 'nope', new Map(), 0), /target stage "nope" could not be found/);
  });

  it('needs every earlier stage when a reference cannot be known before the build', () => {
    const v = parseDockerfile('FROM busybox AS a\nFROM busybox AS b\nFROM busybox\nCOPY --from=$WHICH /x /x\n');
    assert.deepEqual(planStages(v, '', new Map(), 0).needed, [0, 1, 2]);
    assert.deepEqual(planStages(v, '', new Map([['WHICH', 'b']]), 0).needed, [1, 2]);
  });
});

describe('BuildArgs', () => {
  it('scopes args as moby: meta args for FROM, declared ones in a stage, proxies always, client values first', () => {
    const g = new BuildArgs(new Map([['B', 'fromcli'], ['HTTP_PROXY', 'p'], ['UNUSED', 'x']]), new Map([['TARGETARCH', 'amd64']]));
    g.addMetaArg('A', '1');
    assert.equal(g.metaValues().get('A'), '1');
    assert.equal(g.metaValues().get('TARGETARCH'), 'amd64');
    const s = g.forStage();
    assert.equal(s.allowedValues().has('A'), false, 'meta args must be redeclared in a stage');
    s.addArg('A', undefined);
    s.addArg('B', 'default');
    s.addArg('TARGETARCH', undefined);
    assert.deepEqual(Object.fromEntries(s.allowedValues()), { A: '1', B: 'fromcli', HTTP_PROXY: 'p', TARGETARCH: 'amd64' });
    assert.deepEqual(s.filterAllowed(['B=env']).sort(), ['A=1', 'HTTP_PROXY=p', 'TARGETARCH=amd64']);
    assert.deepEqual(g.unconsumed(), ['UNUSED']);
    assert.deepEqual(prependEnvOnCmd(s, ['B=fromcli', 'HTTP_PROXY=p', 'A=1'], ['/bin/sh', '-c', 'x']), ['|2', 'A=1', 'B=fromcli', '/bin/sh', '-c', 'x']);
  });
});
