import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Acl } from './acl.js';
import { Policy } from './policy.js';

const ACL = `
# who        repositories     actions
alice        **               *
*            \${user}/**       pull,push,delete
*            library/**       pull
bob          team/*           push      # no pull: push only
anonymous    public/**        pull
`;

const acts = (acl: Acl, who: string | undefined, repo: string): string[] => [...acl.actions(who, repo)].sort();

describe('Acl', () => {
  it('grants the union of the matching rules; ${user} is the asking user; * stays within one component', () => {
    const acl = Acl.parse(ACL);
    assert.deepEqual(acts(acl, 'alice', 'anything/at/all'), ['delete', 'pull', 'push']);
    assert.deepEqual(acts(acl, 'bob', 'bob/app'), ['delete', 'pull', 'push']);
    assert.deepEqual(acts(acl, 'bob', 'carol/app'), []);
    assert.deepEqual(acts(acl, 'bob', 'library/busybox'), ['pull']);
    assert.deepEqual(acts(acl, 'bob', 'team/x'), ['push']);
    assert.deepEqual(acts(acl, 'bob', 'team/x/y'), []);
    assert.deepEqual(acts(acl, 'bob', 'bob'), [], 'bob/** needs a component after bob/');
    assert.deepEqual(acts(acl, undefined, 'public/a/b'), ['pull']);
    assert.deepEqual(acts(acl, undefined, 'library/busybox'), [], '* means logged-in users only');
    assert.deepEqual(acts(acl, 'bob', 'public/a'), [], 'anonymous rules are applied by Policy, not here');
  });

  it('a user name cannot widen a ${user} pattern (regex characters are literal)', () => {
    const acl = Acl.parse('* ${user}/** pull\n');
    assert.deepEqual(acts(acl, 'a.b', 'a.b/x'), ['pull']);
    assert.deepEqual(acts(acl, 'a.b', 'axb/x'), []);
    assert.deepEqual(acts(acl, '.*', 'anything/x'), []);
  });

  it('refuses bad lines, naming file and line', () => {
    assert.throws(() => Acl.parse('alice **\n', 'f'), /f:1: expected "WHO REPOSITORIES ACTIONS", got 2 fields/);
    assert.throws(() => Acl.parse('\nalice ** pull,fly\n', 'f'), /f:2: unknown action "fly"/);
    assert.throws(() => Acl.parse('anonymous ** push\n', 'f'), /f:1: anonymous clients may only pull/);
    assert.throws(() => Acl.parse('anonymous ** *\n', 'f'), /anonymous clients may only pull/);
    assert.throws(() => Acl.parse('anonymous ${user}/** pull\n', 'f'), /\$\{user\} means nothing for anonymous/);
    assert.throws(() => Acl.parse('alice Foo/** pull\n', 'f'), /invalid repository pattern "Foo\/\*\*"/);
    assert.throws(() => Acl.parse('a:b ** pull\n', 'f'), /invalid user "a:b"/);
  });
});

describe('Policy', () => {
  it('without an ACL: users may do everything, anonymous only pull and only with --anonymous-pull', () => {
    const open = new Policy(undefined, true);
    const closed = new Policy(undefined, false);
    assert.ok(open.allows('u', { type: 'repository', name: 'x', action: 'delete' }));
    assert.ok(open.allows(undefined, { type: 'repository', name: 'x', action: 'pull' }));
    assert.ok(!open.allows(undefined, { type: 'repository', name: 'x', action: 'push' }));
    assert.ok(!closed.allows(undefined, { type: 'repository', name: 'x', action: 'pull' }));
    assert.ok(closed.allows('u', { type: 'registry', name: 'catalog', action: '*' }));
    assert.ok(!closed.allows(undefined, { type: 'registry', name: 'catalog', action: '*' }));
    assert.ok(closed.seesEverything('u'));
  });

  it('with an ACL: users get their rules plus what anonymous may do; the catalog shows what one may pull', () => {
    const p = new Policy(Acl.parse(ACL), false);
    assert.deepEqual(p.grantable('bob', 'repository', 'public/x', ['pull', 'push']), ['pull']);
    assert.deepEqual(p.grantable('bob', 'repository', 'bob/x', ['pull', 'push', '*']), ['pull', 'push', '*']);
    assert.deepEqual(p.grantable('bob', 'repository', 'alice/x', ['pull', 'push']), []);
    assert.deepEqual(p.grantable(undefined, 'repository', 'public/x', ['pull', 'push']), ['pull']);
    assert.deepEqual(p.grantable('bob', 'registry', 'catalog', ['*']), ['*']);
    assert.deepEqual(p.grantable(undefined, 'registry', 'catalog', ['*']), ['*'], 'anonymous rules open the catalog');
    assert.deepEqual(p.grantable('bob', 'other', 'x', ['pull']), []);
    assert.ok(p.visible('bob', 'library/a') && !p.visible('bob', 'alice/a') && !p.visible('bob', 'team/a'));
    assert.ok(!p.seesEverything('alice'));
    // --anonymous-pull on top of an ACL: anyone may pull anything, nothing more.
    const withAnon = new Policy(Acl.parse(ACL), true);
    assert.deepEqual(withAnon.grantable(undefined, 'repository', 'alice/x', ['pull', 'push']), ['pull']);
    assert.deepEqual(withAnon.grantable('bob', 'repository', 'alice/x', ['pull', 'push']), ['pull']);
  });
});
