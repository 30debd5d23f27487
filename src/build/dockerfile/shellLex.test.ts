// Test vectors re-typed from BuildKit's frontend/dockerfile/shell tests
// (envVarTest, wordsTest, lex_test.go: TestShellParserMandatoryEnvVars,
// TestProcessWithMatches, TestProcessWithMatchesPlatform), plus the backtick
// escape token and berth's API conveniences.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { ShellLex, expandWord, expandWords, processWord } from './shellLex.js';

const ERR = Symbol('error');

describe('shellLex: ProcessWord (BuildKit envVarTest)', () => {
  const env = new Map([
    ['PWD', '/home'],
    ['SHELL', 'bash'],
    ['KOREAN', '한국어'],
    ['NULL', ''],
  ]);
  const cases: Array<[string, string | typeof ERR]> = [
    ['hello', 'hello'],
    ["he'll'o", 'hello'],
    ["he'llo", ERR],
    ["he\\'llo", "he'llo"],
    ["he\\\\'llo", ERR],
    ['abc\\tdef', 'abctdef'],
    ['"abc\\tdef"', 'abc\\tdef'],
    ['"abc\\\\tdef"', 'abc\\tdef'],
    ["'abc\\tdef'", 'abc\\tdef'],
    ['hello\\', 'hello'],
    ['hello\\\\', 'hello\\'],
    ['"hello', ERR],
    ['"hello\\"', ERR],
    ['"hel\'lo"', "hel'lo"],
    ["'hello", ERR],
    ["'hello\\'", 'hello\\'],
    ["'hello\\there'", 'hello\\there'],
    ["'hello\\\\there'", 'hello\\\\there'],
    ['"\'\'"', "''"],
    ['$.', '$.'],
    ['he$1x', 'hex'],
    ['he$.x', 'he$.x'],
    ['he$pwd.', 'he.'],
    ['he$PWD', 'he/home'],
    ['he\\$PWD', 'he$PWD'],
    ['he\\\\$PWD', 'he\\/home'],
    ['"he\\$PWD"', 'he$PWD'],
    ['"he\\\\$PWD"', 'he\\/home'],
    ['\\${}', '${}'],
    ['\\${}aaa', '${}aaa'],
    ['he\\${}', 'he${}'],
    ['he\\${}xx', 'he${}xx'],
    ['${}', ERR],
    ['${}aaa', ERR],
    ['he${}', ERR],
    ['he${}xx', ERR],
    ['he${hi}', 'he'],
    ['he${hi}xx', 'hexx'],
    ['he${PWD}', 'he/home'],
    ['he${.}', ERR],
    ['he${XXX:-000}xx', 'he000xx'],
    ['he${PWD:-000}xx', 'he/homexx'],
    ['he${XXX:-$PWD}xx', 'he/homexx'],
    ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
    ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
    ['he${XXX:YYY}', ERR],
    ['he${XXX?}', ERR],
    ['he${XXX:?}', ERR],
    ['he${PWD?}', 'he/home'],
    ['he${PWD:?}', 'he/home'],
    ['he${NULL?}', 'he'],
    ['he${NULL:?}', ERR],
    ['he${XXX:+${PWD}}xx', 'hexx'],
    ['he${PWD:+${XXX}}xx', 'hexx'],
    ['he${PWD:+${SHELL}}xx', 'hebashxx'],
    ['he${XXX:+000}xx', 'hexx'],
    ['he${PWD:+000}xx', 'he000xx'],
    ["'he${XX}'", 'he${XX}'],
    ['"he${PWD}"', 'he/home'],
    ['"he\'$PWD\'"', "he'/home'"],
    ['"$PWD"', '/home'],
    ["'$PWD'", '$PWD'],
    ["'\\$PWD'", '\\$PWD'],
    ['\'"hello"\'', '"hello"'],
    ["'he\\$PWD'", 'he\\$PWD'],
    ['he${PWD', ERR],
    ['he${PWD:=000}xx', ERR],
    ['he${PWD:+${PWD}:}xx', 'he/home:xx'],
    ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
    ['he${XXX:-\\${PWD}z}xx', 'he${PWDz}xx'],
    ['안녕하세요', '안녕하세요'],
    ["안'녕'하세요", '안녕하세요'],
    ["안'녕하세요", ERR],
    ['안녕$PWD', '안녕/home'],
    ['안녕${XXX:-${YYY:-yyy}}xx', '안녕yyyxx'],
    ['$KOREAN', '한국어'],
    ['안녕$KOREAN', '안녕한국어'],
    ['${{aaa}', ERR],
    ['${aaa}}', '}'],
    ['${aaa', ERR],
    ['${{aaa:-bbb}', ERR],
    ['${aaa:-bbb}}', 'bbb}'],
    ['${aaa:-bbb', ERR],
    ['${aaa:-bbb}', 'bbb'],
    ['${aaa:-${bbb:-ccc}}', 'ccc'],
    ['${aaa:-bbb ${foo}', ERR],
    ['${aaa:-bbb {foo}', 'bbb {foo'],
    ['${:}', ERR],
    ['${:-bbb}', ERR],
    ['${:+bbb}', ERR],
    // Positional parameters are never set.
    ['$1', ''],
    ['${1}', ''],
    ['${1:+bbb}', ''],
    ['${1:-bbb}', 'bbb'],
    ['$999aaa', 'aaa'],
    ['${999:-bbb}aaa', 'bbbaaa'],
    ['$001aaa', 'aaa'],
    ['${001:-bbb}aaa', 'bbbaaa'],
    // Nor are special parameters.
    ['$@', ''],
    ['$@@@', '@@'],
    ['$@aaa', 'aaa'],
    ['${@:-bbb}aaa', 'bbbaaa'],
    ['${*:-bbb}', 'bbb'],
    ['$#', ''],
    ['${#:-bbb}', 'bbb'],
    ['$?', ''],
    ['${-:-bbb}', 'bbb'],
    ['$$', ''],
    ['${$:+bbb}', ''],
    ['$!', ''],
    ['$0', ''],
    ['${0:-bbb}', 'bbb'],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want === ERR ? 'error' : JSON.stringify(want)}`, () => {
      if (want === ERR) {
        assert.throws(() => expandWord(input, env), (err: unknown) => isInvalidArgument(err));
      } else {
        assert.equal(expandWord(input, env), want);
      }
    });
  }
});

describe('shellLex: ProcessWords splits after expansion (BuildKit wordsTest)', () => {
  const env = new Map([
    ['hi', 'hi'],
    ['space', 'abc  def'],
    ['leading', '  ab c'],
    ['trailing', 'ab c   '],
  ]);
  const cases: Array<[string, string[] | typeof ERR, ReadonlyMap<string, string>?]> = [
    ['hello', ['hello']],
    ['hello${hi}bye', ['hellobye'], new Map()],
    ['hello${hi}bye', ['hellohibye']],
    ['hello${space}bye', ['helloabc', 'defbye']],
    ['hello"${space}"bye', ['helloabc  defbye']],
    ['hello "${space}"bye', ['hello', 'abc  defbye']],
    ['hello${leading}def', ['hello', 'ab', 'cdef']],
    ['hello"${leading}" def', ['hello  ab c', 'def']],
    ['hello"${leading}"', ['hello  ab c']],
    ['hello${leading}', ['hello', 'ab', 'c']],
    ['hello${trailing}', ['helloab', 'c']],
    ['hello${trailing}d', ['helloab', 'c', 'd']],
    ['hello"${trailing}"d', ['helloab c   d']],
    ['hel"lo${trailing}"', ['helloab c   ']],
    ['hello" there  "', ['hello there  ']],
    ['hello there     ', ['hello', 'there']],
    ['hello\\ there', ['hello there']],
    ['hello" there', ERR],
    ['hello\\" there', ['hello"', 'there']],
    ['hello"\\\\there"', ['hello\\there']],
    ['hello"\\there"', ['hello\\there']],
    ["hello'\\\\there'", ['hello\\\\there']],
    ["hello'\\there'", ['hello\\there']],
    ["hello'$there'", ['hello$there']],
  ];
  for (const [input, want, vars] of cases) {
    it(`${input} → ${want === ERR ? 'error' : JSON.stringify(want)}`, () => {
      if (want === ERR) assert.throws(() => expandWords(input, vars ?? env));
      else assert.deepEqual(expandWords(input, vars ?? env), want);
    });
  }

  it('keeps the word around a ${V:-d} modifier (BuildKit ≥ 2024 loses it; see the module header)', () => {
    assert.deepEqual(expandWords('a${X:-b} c', {}), ['ab', 'c']);
  });
});

describe('shellLex: matched and unmatched variables (BuildKit TestProcessWithMatches)', () => {
  type Case = {
    input: string;
    env: Record<string, string>;
    want?: string;
    matched?: string[];
    unmatched?: string[];
  };
  const cases: Case[] = [
    { input: 'x', env: { DUMMY: 'dummy' }, want: 'x' },
    { input: 'x ${UNUSED}', env: { DUMMY: 'dummy' }, want: 'x ', unmatched: ['UNUSED'] },
    { input: 'x ${FOO}', env: { FOO: 'y' }, want: 'x y', matched: ['FOO'] },
    { input: '${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx  ccc', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
    { input: '${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx bbb ccc', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
    { input: '${FOO:-}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx', matched: ['FOO'] },
    { input: '${FOO:-}', env: {}, want: '', unmatched: ['FOO'] },
    { input: '${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'aaa bbb ', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
    { input: '${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'aaa  ', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
    { input: '${FOO?aaa}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx', matched: ['FOO'] },
    { input: '${BAR?bbb}', env: { FOO: 'xxx', BAR: '' }, want: '', matched: ['BAR'] },
    { input: '${BAZ?ccc}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${FOO:?aaa}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx', matched: ['FOO'] },
    { input: '${BAR:?bbb}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${BAZ:?ccc}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${BAZ:?}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${FOO=aaa}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${FOO=:aaa}', env: { FOO: 'xxx', BAR: '' } },
    { input: '${FOO=}', env: {} },
    { input: '${FOO#()[]{\\}^$.\\*\\?|\\\\}', env: { FOO: '()[]{}^$.*?|\\x' }, want: 'x', matched: ['FOO'] },
    { input: '${FOO%%\\**}', env: { FOO: 'xx**' }, want: 'xx', matched: ['FOO'] },
    { input: '${FOO#*x*y}', env: { FOO: 'xxyy' }, want: 'y', matched: ['FOO'] },
    { input: '${FOO#*}', env: { FOO: 'xxyy' }, want: 'xxyy', matched: ['FOO'] },
    { input: '${FOO#$BAR}', env: { FOO: 'xxyy', BAR: 'x' }, want: 'xyy', matched: ['FOO', 'BAR'] },
    { input: '${FOO#$BAR}', env: { FOO: 'xxyy', BAR: '' }, want: 'xxyy', matched: ['FOO', 'BAR'] },
    { input: '${FOO#}', env: { FOO: 'xxyy' }, want: 'xxyy', matched: ['FOO'] },
    { input: '${FOO##*x}', env: { FOO: 'xxyy' }, want: 'yy', matched: ['FOO'] },
    { input: '${FOO##}', env: { FOO: 'xxyy' }, want: 'xxyy', matched: ['FOO'] },
    { input: '${FOO#?\\?}', env: { FOO: '???y' }, want: '?y', matched: ['FOO'] },
    { input: '${ABC:-.}${FOO%x}${ABC:-.}', env: { FOO: 'xxyy' }, want: '.xxyy.', matched: ['FOO'], unmatched: ['ABC'] },
    { input: '${FOO%%\\**\\*}', env: { FOO: 'a***yy*' }, want: 'a', matched: ['FOO'] },
    { input: '${FOO%}', env: { FOO: 'xxyy' }, want: 'xxyy', matched: ['FOO'] },
    { input: '${FOO%%$BAR}', env: { FOO: 'xxyy', BAR: '' }, want: 'xxyy', matched: ['FOO', 'BAR'] },
    { input: '${FOO:#}', env: {} },
    { input: '${FOO:##}', env: {} },
    { input: '${FOO:%}', env: {} },
    { input: '${FOO:%%}', env: {} },
    {
      input: '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}',
      env: { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' },
      want: '/foo.*/*.txt - /foo..*.txt',
      matched: ['FOO', 'NEEDLE'],
    },
    {
      input: '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}',
      env: { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' },
      want: '/tmp/bar.txt - /bar.txt',
      matched: ['FOO', 'NEEDLE'],
    },
    {
      input: '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}',
      env: { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
      want: '/foo/b/c.txt - /foo/c.txt',
      matched: ['FOO', 'NEEDLE', 'REPLACEMENT'],
    },
    {
      input: '${FOO/$NEEDLE/$REPLACEMENT}',
      env: { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' },
      want: 'https://google.de',
      matched: ['FOO', 'NEEDLE', 'REPLACEMENT'],
    },
    { input: '${FOO//\\//\\/}', env: { FOO: '/tmp/foo.txt' }, want: '\\/tmp\\/foo.txt', matched: ['FOO'] },
    { input: '${FOO/$BAR/ww}', env: { FOO: 'xxyy', BAR: '' }, want: 'wwxxyy', matched: ['FOO', 'BAR'] },
    { input: '${FOO//ww}', env: { FOO: 'xxyy' } },
    { input: '${FOO//}', env: { FOO: 'xxyy' } },
    { input: '${FOO///}', env: { FOO: 'xxyy' }, want: 'xxyy', matched: ['FOO'] },
    { input: '${FOO///}', env: {}, want: '', unmatched: ['FOO'] },
  ];
  for (const c of cases) {
    it(`${c.input} with ${JSON.stringify(c.env)}`, () => {
      if (c.want === undefined) {
        assert.throws(() => processWord(c.input, c.env), (err: unknown) => isInvalidArgument(err));
        return;
      }
      const r = processWord(c.input, c.env);
      assert.equal(r.result, c.want);
      assert.deepEqual([...r.matched].sort(), [...(c.matched ?? [])].sort());
      assert.deepEqual([...r.unmatched].sort(), [...(c.unmatched ?? [])].sort());
    });
  }

  it('reports unset variables even when a default hides them', () => {
    const r = processWord('${A:-x}$B', new Map([['B', 'b']]));
    assert.equal(r.result, 'xb');
    assert.deepEqual([...r.unmatched], ['A']);
    assert.deepEqual([...r.matched], ['B']);
  });
});

describe('shellLex: modifiers and errors', () => {
  it('${V:?msg} and ${V?msg} expand their message (TestShellParserMandatoryEnvVars)', () => {
    const noEmpty = '${VAR:?message here$ARG}';
    const noUnset = '${VAR?message here$ARG}';
    assert.equal(expandWord(noEmpty, { VAR: 'plain', ARG: 'x' }), 'plain');
    assert.throws(() => expandWord(noEmpty, { VAR: '', ARG: 'x' }), /message herex/);
    assert.throws(() => expandWord(noEmpty, { ARG: 'x' }), /message herex/);
    assert.equal(expandWord(noUnset, { VAR: 'plain', ARG: 'x' }), 'plain');
    assert.equal(expandWord(noUnset, { VAR: '', ARG: 'x' }), '');
    assert.throws(() => expandWord(noUnset, { ARG: 'x' }), /message herex/);
  });

  it('words its errors as BuildKit does', () => {
    assert.throws(() => expandWord('${X?}', {}), { message: 'failed to process "${X?}": X: is not allowed to be unset' });
    assert.throws(() => expandWord('${X:?}', { X: '' }), { message: 'failed to process "${X:?}": X: is not allowed to be empty' });
    assert.throws(() => expandWord('${}', {}), { message: 'failed to process "${}": syntax error: bad substitution' });
    assert.throws(() => expandWord('a${X', {}), { message: 'failed to process "a${X": unsupported modifier (\ufffd) in substitution' });
    assert.throws(() => expandWord('${X:-a', {}), { message: `failed to process "\${X:-a": syntax error: missing '}'` });
    assert.throws(() => expandWord('${X:=a}', {}), { message: 'failed to process "${X:=a}": unsupported modifier (:=) in substitution' });
    assert.throws(() => expandWord('${X:#a}', {}), { message: 'failed to process "${X:#a}": unsupported modifier (:#) in substitution' });
    assert.throws(() => expandWord('${X/a', {}), { message: `failed to process "\${X/a": syntax error: missing '/' in \${}` });
    assert.throws(() => expandWord("'abc", {}), {
      message: `failed to process "'abc": unexpected end of statement while looking for matching single-quote`,
    });
    assert.throws(() => expandWord('${X#\\x}', { X: 'y' }), {
      message: `failed to process "\${X#\\\\x}": invalid pattern (\\x) in substitution: invalid escape '\\x'`,
    });
  });

  it('builds a release file name from platform args (TestProcessWithMatchesPlatform)', () => {
    const release = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
    const base = { VERSION: 'v1.2.3', TARGETOS: 'linux' };
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm', TARGETVARIANT: 'v7' }), 'something-v1.2.3.linux-arm-v7.tar.gz');
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm64', TARGETVARIANT: '' }), 'something-v1.2.3.linux-arm64.tar.gz');
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm64' }), 'something-v1.2.3.linux-arm64.tar.gz');
  });

  it('replaces all matches like Go: $0 is the match, $$ a dollar, and no empty match right after one', () => {
    assert.equal(expandWord('${X//b/[\\$0]}', { X: 'abcb' }), 'a[\\b]c[\\b]');
    assert.equal(expandWord('${X//*/-}', { X: 'ab' }), '-');
    assert.equal(expandWord('${X///-}', { X: 'ab' }), '-a-b-');
    assert.equal(expandWord('${X/b/$Y}', { X: 'abc', Y: '$0' }), 'a$0c');
    assert.equal(expandWord('${X//b/$Y}', { X: 'abc', Y: '<$0>' }), 'a<b>c');
  });

  it('does not let ? or * cross a newline (Go regexp `.`)', () => {
    assert.equal(expandWord('${X#*b}', { X: 'a\nb' }), 'a\nb');
    assert.equal(expandWord('${X%%\n*}', { X: 'a\nb' }), 'a');
  });
});

describe('shellLex: the backtick escape token', () => {
  it('escapes with ` and leaves backslashes literal', () => {
    assert.equal(expandWord('C:\\path`$X', { X: 'no' }, '`'), 'C:\\path$X');
    assert.equal(expandWord('"a`"b"', {}, '`'), 'a"b');
    assert.equal(expandWord('"a\\$X"', { X: 'y' }, '`'), 'a\\y');
    assert.deepEqual(expandWords('a` b c', {}, '`'), ['a b', 'c']);
  });
});

describe('shellLex: lexer options used by the parser', () => {
  it('skipUnsetEnv keeps unknown references as written', () => {
    const lex = new ShellLex('\\', { skipUnsetEnv: true });
    assert.equal(lex.processWord('$A ${B} ${C:-d} ${E/x/y}', {}).result, '$A ${B} ${C:-d} ${E/x/y}');
  });
  it('rawQuotes and rawEscapes keep quotes and escapes, and << stays in its word', () => {
    const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
    assert.deepEqual(lex.processWords(`RUN <<'EOF' a\\ b << X`, {}), ['RUN', "<<'EOF'", 'a\\ b', '<< X']);
  });
});
