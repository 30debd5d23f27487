// Cases re-typed from BuildKit's frontend/dockerfile parser tests (parser_test.go,
// parser_heredoc_test.go, directives_test.go, the testfiles/*/Dockerfile → result
// dumps and testfile-line) and instructions tests (parse_test.go,
// parse_heredoc_test.go), plus berth's own cases for the typed AST.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../../errdefs/errors.js';
import type { CopyInstruction, Instruction, RunInstruction } from './ast.js';
import { dumpNode, parseHeredocWordStrict, parseLines, parseWords } from './lineParser.js';
import { DockerfileParseError, parseDockerfile, parseHeredocWord, parseInstruction } from './parser.js';

/** BuildKit's Node.Dump of every instruction, one `(…)` per line. */
function dump(text: string): string[] {
  return parseLines(text).nodes.map((n) => `(${dumpNode(n)})`);
}

/** The one instruction of a single-stage Dockerfile `FROM scratch\n<body>`. */
function only(body: string): Instruction {
  const df = parseDockerfile(`FROM scratch\n${body}`);
  const inst = df.stages[0]?.instructions[0];
  assert.ok(inst, 'no instruction');
  return inst;
}

/** Assert parseDockerfile fails with exactly this message (and these lines, if given). */
function fails(text: string, message: string, lines?: [number, number]): void {
  assert.throws(
    () => parseDockerfile(text),
    (err: unknown) => {
      assert.ok(err instanceof DockerfileParseError, `expected DockerfileParseError, got ${String(err)}`);
      assert.ok(isInvalidArgument(err), 'must map to 400');
      assert.equal(err.message, message);
      if (lines) assert.deepEqual([err.line, err.endLine], lines);
      return true;
    },
  );
}

/** The bare BuildKit message of the error for one instruction after FROM. */
function detail(body: string): string {
  try {
    parseDockerfile(`FROM scratch\n${body}`);
  } catch (err) {
    assert.ok(err instanceof DockerfileParseError);
    return err.detail;
  }
  assert.fail(`no error for ${JSON.stringify(body)}`);
}

describe('lineParser: BuildKit parse results (testfiles dumps)', () => {
  it('keeps escapes for later and removes continuations (escapes)', () => {
    assert.deepEqual(
      dump(
        'FROM ubuntu:14.04\nLABEL maintainer Erik \\\\Hollensbe <erik@hollensbe.org>\\"\n\nRUN apt-get \\update && \\\n' +
          '  apt-get \\"install znc -y\nADD \\conf\\\\" /.znc\n\nRUN foo \\\n\nbar \\\n\nbaz\n\nCMD [ "\\/usr\\\\\\"/bin/znc", "-f", "-r" ]\n',
      ),
      [
        '(from "ubuntu:14.04")',
        '(label "maintainer" "Erik \\\\\\\\Hollensbe <erik@hollensbe.org>\\\\\\"" "")',
        '(run "apt-get \\\\update &&   apt-get \\\\\\"install znc -y")',
        '(add "\\\\conf\\\\\\\\\\"" "/.znc")',
        '(run "foo bar baz")',
        '(cmd "/usr\\\\\\"/bin/znc" "-f" "-r")',
      ],
    );
  });

  it('takes flags before the arguments and stops at -- (flags)', () => {
    assert.deepEqual(
      dump(
        'FROM scratch\nCOPY foo /tmp/\nCOPY --user=me foo /tmp/\nCOPY --user=me --doit=true foo /tmp/\n' +
          'COPY --doit=true -- foo /tmp/\nCOPY -- foo /tmp/\nCMD --doit [ "a", "b" ]\nCMD --doit=true -- [ "a", "b" ]\nCMD --doit -- [ ]\n' +
          'COPY --chown="a b" x y\n',
      ),
      [
        '(from "scratch")',
        '(copy "foo" "/tmp/")',
        '(copy ["--user=me"] "foo" "/tmp/")',
        '(copy ["--user=me" "--doit=true"] "foo" "/tmp/")',
        '(copy ["--doit=true"] "foo" "/tmp/")',
        '(copy "foo" "/tmp/")',
        '(cmd ["--doit"] "a" "b")',
        '(cmd ["--doit=true"] "a" "b")',
        '(cmd ["--doit"])',
        '(copy ["--chown=a b"] "x" "y")',
      ],
    );
  });

  it('splits HEALTHCHECK into a type and a command (health)', () => {
    assert.deepEqual(
      dump(
        'FROM debian\nHEALTHCHECK\nHEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n  CMD /app/check.sh --quiet\n' +
          'HEALTHCHECK CMD\nHEALTHCHECK   CMD   a b\nHEALTHCHECK --timeout=3s CMD ["foo"]\nHEALTHCHECK CONNECT TCP 7000\n',
      ),
      [
        '(from "debian")',
        '(healthcheck)',
        '(healthcheck ["--interval=5s" "--timeout=3s" "--retries=3"] "CMD" "/app/check.sh --quiet")',
        '(healthcheck "CMD")',
        '(healthcheck "CMD" "a b")',
        '(healthcheck ["--timeout=3s"] "CMD" "foo")',
        '(healthcheck "CONNECT" "TCP 7000")',
      ],
    );
  });

  it('reads JSON arrays with any whitespace and JSON escapes (json)', () => {
    assert.deepEqual(
      dump('CMD []\nCMD [""]\nCMD ["a"]\nCMD [ "a", "b" ]\nCMD\t[\t"a",\t"b"\t]\t\nCMD ["abc 123", "♥", "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000"]\n'),
      ['(cmd)', '(cmd "")', '(cmd "a")', '(cmd "a" "b")', '(cmd "a" "b")', '(cmd "abc 123" "♥" "\\" \\\\ / \\b \\f \\n \\r \\t \\x00")'],
    );
  });

  it('falls back to shell form when the JSON is malformed (jeztah-invalid-json-*)', () => {
    assert.deepEqual(
      dump(
        `CMD "[\\"echo\\", \\"Phew\\"]"\nCMD '["echo", "JSON in a string"]'\nCMD ['echo','single quotes']\n` +
          `CMD ["echo", "unterminated bracket"\nCMD ["echo", "no quote!]\nADD\t\t[ "test file", "/tmp/test file" ]\nADD null /\n`,
      ),
      [
        '(cmd "\\"[\\\\\\"echo\\\\\\", \\\\\\"Phew\\\\\\"]\\"")',
        `(cmd "'[\\"echo\\", \\"JSON in a string\\"]'")`,
        `(cmd "['echo','single quotes']")`,
        '(cmd "[\\"echo\\", \\"unterminated bracket\\"")',
        '(cmd "[\\"echo\\", \\"no quote!]")',
        '(add "test file" "/tmp/test file")',
        '(add "null" "/")',
      ],
    );
  });

  it('rejects a JSON array of non-strings (shykes-nested-json)', () => {
    assert.throws(() => parseLines('CMD [ "echo", [ "nested json" ] ]'), {
      message: 'when using JSON array syntax, arrays must be comprised of strings only',
    });
    assert.throws(() => parseLines('RUN [1]'), /comprised of strings only/);
  });

  it('parses ENV and LABEL pairs and the legacy `k v` form (env)', () => {
    assert.deepEqual(
      dump(
        'ENV name value\nENV name=value name2=value2\nENV name="value value1"\nENV name=value\\ value2\n' +
          `ENV name='value"double quote"value2'\nENV name="a\\"b"\nENV name='a\\'b'\nENV name="''"\n` +
          'ENV name=value \\\n    name1=value1 \\\n    name2="value2a \\\n           value2b" \\\n\tname4="value4a\\\\nvalue4b" \\\n',
      ),
      [
        '(env "name" "value" "")',
        '(env "name" "value" "=" "name2" "value2" "=")',
        '(env "name" "\\"value value1\\"" "=")',
        '(env "name" "value\\\\ value2" "=")',
        `(env "name" "'value\\"double quote\\"value2'" "=")`,
        '(env "name" "\\"a\\\\\\"b\\"" "=")',
        `(env "name" "'a\\\\'b'" "=")`,
        `(env "name" "\\"''\\"" "=")`,
        '(env "name" "value" "=" "name1" "value1" "=" "name2" "\\"value2a            value2b\\"" "=" "name4" "\\"value4a\\\\\\\\nvalue4b\\"" "=")',
      ],
    );
  });

  it('keeps legacy ENV values whole (kartar, lk4d4)', () => {
    assert.deepEqual(dump('LABEL maintainer James Turnbull "james@example.com"\nENV SCUBA 1 DUBA 3\nENV SCUBA "1 DUBA 3"'), [
      '(label "maintainer" "James Turnbull \\"james@example.com\\"" "")',
      '(env "SCUBA" "1 DUBA 3" "")',
      '(env "SCUBA" "\\"1 DUBA 3\\"" "")',
    ]);
  });

  it('parses ARG words with their quotes (args)', () => {
    assert.deepEqual(dump('ARG foo bar=baz\nFROM ubuntu\nARG abc="123 456" def\n'), [
      '(arg "foo" "bar=baz")',
      '(from "ubuntu")',
      '(arg "abc=\\"123 456\\"" "def")',
    ]);
  });

  it('joins continuation lines, skipping comments and blank lines (continueIndent)', () => {
    assert.deepEqual(
      dump(
        'FROM ubuntu:14.04\n\nRUN echo hello\\\n  world\\\n  goodnight  \\\n  moon\\\n  light\\\nning\n' +
          'RUN echo hello  \\\n  world\nRUN echo hello \\\ngoodbye\\\nfrog\nRUN echo hello  \\  \nworld\n' +
          'RUN echo hi \\\n \\\n world \\\n\\\n good\\\n\\\nnight\nRUN echo hello \\\n# this is a comment\n\n' +
          '# this is a comment with a blank line surrounding it\n\nthis is some more useful stuff\n',
      ),
      [
        '(from "ubuntu:14.04")',
        '(run "echo hello  world  goodnight    moon  lightning")',
        '(run "echo hello    world")',
        '(run "echo hello goodbyefrog")',
        '(run "echo hello  world")',
        '(run "echo hi   world  goodnight")',
        '(run "echo hello this is some more useful stuff")',
      ],
    );
  });

  it('does not continue after an escaped escape token (trailing-backslash)', () => {
    assert.deepEqual(
      dump(
        'FROM hello-world\nENV B another\\\\path\nENV C trailing\\\\backslash\\\\\nENV D not appended to C\n' +
          'ENV E hello\\\n\\\nworld\nENV F hello\\\n \\\nworld\nENV G hello \\\n\\\nworld',
      ),
      [
        '(from "hello-world")',
        '(env "B" "another\\\\\\\\path" "")',
        '(env "C" "trailing\\\\\\\\backslash\\\\\\\\" "")',
        '(env "D" "not appended to C" "")',
        '(env "E" "helloworld" "")',
        '(env "F" "hello world" "")',
        '(env "G" "hello world" "")',
      ],
    );
  });

  it('ends at EOF inside a continuation (continue-at-eof)', () => {
    assert.deepEqual(dump('FROM alpine:3.5\n\nRUN something \\'), ['(from "alpine:3.5")', '(run "something")']);
  });

  it('nests the ONBUILD trigger (lk4d4)', () => {
    assert.deepEqual(dump('ONBUILD RUN ["echo", "test"]\nONBUILD RUN echo test\nONBUILD COPY . /'), [
      '(onbuild (run "echo" "test"))',
      '(onbuild (run "echo test"))',
      '(onbuild (copy "." "/"))',
    ]);
  });

  it('records each instruction’s first and last line (testfile-line)', () => {
    const text =
      '# ESCAPE=\\\n\n\n\nFROM brimstone/ubuntu:14.04\n\n\n# TORUN -v /var/run/docker.sock:/var/run/docker.sock\n\n\n' +
      'ENV GOPATH \\\n/go\n\n\n\n# Install the packages\nRUN apt-get update \\\n\t&& a \\\n\n\n    && b \\\n    && c \\\n' +
      '    && d \\\n\n\t&& e \\\n    && f \\\n\n\t&& g \\\n\t&& h \\\n\t&& i \\\n\t&& j\n\n\n\n\n';
    const nodes = parseLines(text).nodes;
    assert.deepEqual(
      nodes.map((n) => [n.startLine, n.endLine]),
      [
        [5, 5],
        [11, 12],
        [17, 31],
      ],
    );
  });

  it('warns about empty continuation lines as BuildKit does', () => {
    const r = parseLines(
      'FROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\n' +
        'RUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\n' +
        'RUN indented \\\n    # this is an indented comment\n    comment\n\t',
    );
    assert.deepEqual(r.warnings, [
      'Empty continuation line found in: RUN something     following     more',
      'Empty continuation line found in: RUN another     thing',
    ]);
  });

  it('strips a byte-order mark and accepts CRLF line endings', () => {
    assert.deepEqual(dump('\ufeffFROM a\r\nRUN b \\\r\n  c\r\n'), ['(from "a")', '(run "b   c")']);
  });

  it('refuses a line over 64 KiB, as bufio.Scanner does', () => {
    const label = 'a'.repeat(64 * 1024);
    assert.throws(() => parseLines(`\n\t\tFROM image\n\t\tLABEL test=${label}\n`), {
      message: 'dockerfile line greater than max allowed size of 65535',
    });
    assert.equal(parseLines(`FROM image\nLABEL t=${'a'.repeat(65535 - 8)}\n`).nodes.length, 2);
  });

  it('splits words keeping quotes and escapes (TestParseWords)', () => {
    const cases: Array<[string, string[]]> = [
      ['foo', ['foo']],
      ['foo bar', ['foo', 'bar']],
      ['foo\\ bar', ['foo\\ bar']],
      ['foo=bar', ['foo=bar']],
      ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
      ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
      ['àöû', ['àöû']],
      ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
    ];
    for (const [input, want] of cases) assert.deepEqual(parseWords(input, '\\'), want);
  });
});

describe('lineParser: parser directives', () => {
  it('reads # escape=` and continues lines with a backtick (escape, escape-nonewline)', () => {
    const r = parseLines('#escape = `\n\nFROM image\nLABEL maintainer foo@bar.com\nENV GOPATH `\n\\go');
    assert.equal(r.escape, '`');
    assert.deepEqual(r.directives, { escape: '`' });
    assert.deepEqual(
      r.nodes.map((n) => `(${dumpNode(n)})`),
      ['(from "image")', '(label "maintainer" "foo@bar.com" "")', '(env "GOPATH" "\\\\go" "")'],
    );
    assert.deepEqual(dump('# escape = `\n# a comment right after\nFROM image\nENV GOPATH `\n\\go\n'), [
      '(from "image")',
      '(env "GOPATH" "\\\\go" "")',
    ]);
  });

  it('ignores directives after a comment (escape-after-comment)', () => {
    const r = parseLines('# Comment here.\n# escape = `\n\nFROM image\nENV GOPATH \\\n\\go');
    assert.equal(r.escape, '\\');
    assert.deepEqual(r.directives, {});
    assert.deepEqual(r.nodes.map((n) => `(${dumpNode(n)})`), ['(from "image")', '(env "GOPATH" "\\\\go" "")']);
  });

  it('ignores directives after an empty line or an instruction', () => {
    assert.equal(parseLines('\n# escape=`\nFROM a').escape, '\\');
    assert.equal(parseLines('FROM a\n# escape=`\nRUN b').escape, '\\');
  });

  it('takes syntax, escape and check together, case-insensitively (escape-with-syntax, TestDirectives)', () => {
    const r = parseLines('# syntax = docker/dockerfile\n# ESCAPE = `\n#check=skip=all\n\nFROM `\n    image\n');
    assert.deepEqual(r.directives, { syntax: 'docker/dockerfile', escape: '`', check: 'skip=all' });
    assert.deepEqual(r.nodes.map((n) => `(${dumpNode(n)})`), ['(from "image")']);
  });

  it('stops at an unknown directive key', () => {
    const r = parseLines('# key = FOO bar\n# escape=`\nFROM a');
    assert.deepEqual(r.directives, {});
    assert.equal(r.escape, '\\');
  });

  it('refuses a repeated directive and a bad escape token', () => {
    fails('# escape=`\n# escape=\\\nFROM a', 'failed to parse Dockerfile: only one escape parser directive can be used', [2, 2]);
    fails('# escape=x\nFROM a', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\", [1, 1]);
  });
});

describe('lineParser: heredocs (TestParseExtractsHeredoc)', () => {
  const text = `
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COMMENT
# internal comment
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
\t`;
  type Doc = [name: string, content: string, expand: boolean, chomp?: boolean, fd?: number];
  const want: Array<Doc[]> = [
    [], // ENV
    [], // RUN ls
    [], // USER <<INVALID (USER takes no heredoc)
    [], // INVALID
    [['EMPTY', '', true]],
    [['EMPTY2', '', true, false, 3]],
    [], // RUN "<<NOHEREDOC"
    [['INDENT', '\tfoo\n\tbar\n', true]],
    [['UNINDENT', '\tbaz\n\tquux\n', true, true]],
    [['UNINDENT2', '\tbaz\n\tquux\n', true, true]],
    [['NOEXPAND', "\tdon't expand $NAME\n", false, true]],
    [['COMMENT', '# internal comment\necho foo bar # trailing comment\n', true]],
    [['MOUNT', 'echo hello\n', true]],
    [
      ['FILE1', 'content 1\n', true],
      ['FILE2', 'content 2\n', true],
    ],
    [
      ['X', 'Y\n', true],
      ['Y', 'X\n', true],
    ],
    [['COMPLEX', "print('hello world')\n", true]],
    [['file.txt', 'hello world\n', true]],
    [['eof', 'echo foo\n', false]],
    [["eo'f", 'echo foo\n', true]],
    [["eo'f", 'echo foo\n', false]],
    [['one two', 'echo bar\n', false]],
    [['$EOF', '', true]],
    [['EOF', '', true]],
    [['EOF', '', true]],
  ];

  it('reads each body raw, with its delimiter, quoting and fd', () => {
    const nodes = parseLines(text).nodes.slice(1);
    assert.equal(nodes.length, want.length);
    nodes.forEach((node, i) => {
      const got = node.heredocs.map((h) => [h.name, h.content, h.expand, h.chomp, h.fileDescriptor]);
      const exp = (want[i] ?? []).map(([n, c, e, ch, fd]) => [n, c, e, ch ?? false, fd ?? 0]);
      assert.deepEqual(got, exp, `instruction ${i + 2}: ${node.original}`);
    });
  });

  it('ignores heredoc-like words in JSON form (TestParseJSONHeredoc)', () => {
    const nodes = parseLines('FROM alpine:3.6\n\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n\t').nodes;
    assert.deepEqual(
      nodes.map((n) => n.heredocs.length),
      [0, 0, 0, 0],
    );
  });

  it('fails on an unterminated heredoc', () => {
    fails('FROM a\nRUN <<EOF\necho\n', 'failed to parse Dockerfile: unterminated heredoc', [2, 3]);
  });

  it('tells heredoc words apart (TestParseHeredocHelpers)', () => {
    for (const w of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
      assert.equal(parseHeredocWord(w)?.name, 'EOF', w);
    }
    // ParseHeredoc fails on these; the exported MustParseHeredoc form says "not a heredoc".
    for (const w of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
      assert.throws(() => parseHeredocWordStrict(w), w);
      assert.equal(parseHeredocWord(w), undefined, w);
    }
    for (const w of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredocWord(w), undefined, w);
    assert.deepEqual(parseHeredocWord('4<<-"E"'), { name: 'E', fileDescriptor: 4, expand: false, chomp: true });
  });

  it('finds heredocs anywhere on the line (TestHeredocsFromLine)', () => {
    const names = (line: string): string[] =>
      parseLines(`${line}\nEOF\nEOF2\n-EOF\n`).nodes[0]?.heredocs.map((h) => h.name) ?? [];
    assert.deepEqual(names('RUN <<EOF'), ['EOF']);
    // BuildKit's own test expects EOF here but passes vacuously: the line lexer
    // ends the word at "<<-", so no heredoc opens (it does for "<< EOF").
    assert.deepEqual(names('RUN <<- EOF'), []);
    assert.deepEqual(names('RUN << EOF'), ['EOF']);
    assert.deepEqual(names('RUN << -EOF'), ['-EOF']);
    assert.deepEqual(names("RUN <<'EOF'"), ['EOF']);
    assert.deepEqual(names('RUN 4<<EOF'), ['EOF']);
    assert.deepEqual(names('RUN <<EOF <<EOF2'), ['EOF', 'EOF2']);
    assert.equal(parseLines("RUN '<<EOF'").nodes[0]?.heredocs.length, 0);
    assert.equal(parseLines('RUN "<<EOF"').nodes[0]?.heredocs.length, 0);
  });
});

describe('parser: instruction checks (BuildKit instructions/parse_test.go)', () => {
  it('requires exactly one argument', () => {
    for (const cmd of ['MAINTAINER', 'WORKDIR', 'USER', 'STOPSIGNAL']) {
      assert.equal(detail(cmd), `${cmd} requires exactly one argument`);
    }
  });

  it('requires at least one argument', () => {
    for (const cmd of ['ENV', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'EXPOSE', 'VOLUME', 'ARG', 'SHELL']) {
      assert.equal(detail(cmd), `${cmd} requires at least one argument`);
    }
    assert.equal(detail('SHELL []'), 'SHELL requires at least one argument');
    assert.equal(detail('VOLUME []'), 'VOLUME requires at least one argument');
  });

  it('requires a destination for ADD and COPY', () => {
    for (const cmd of ['ADD', 'COPY']) {
      assert.equal(detail(`${cmd} arg1`), `${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);
    }
    // A tab after COPY and the rest on continuation lines (copyEmptyWhitespace).
    assert.match(detail('COPY\t\n\t\tquux \\\n      bar'), /^COPY requires at least two arguments/);
  });

  it('words the error cases as BuildKit (TestErrorCases)', () => {
    assert.equal(detail('ONBUILD FROM scratch'), "FROM isn't allowed as an ONBUILD trigger");
    assert.equal(detail('ONBUILD MAINTAINER me'), "MAINTAINER isn't allowed as an ONBUILD trigger");
    assert.equal(detail('MAINTAINER --boo joe@example.com'), 'unknown flag: --boo');
    assert.equal(detail('ONBUILD ONBUILD RUN touch foobar'), "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    assert.equal(detail('FOO bar'), 'unknown instruction: FOO (did you mean FROM?)');
    assert.equal(detail('foo bar'), 'unknown instruction: foo (did you mean from?)');
    assert.equal(detail('RUNN make'), 'unknown instruction: RUNN (did you mean RUN?)');
    assert.equal(detail('XYZZY make'), 'unknown instruction: XYZZY');
    assert.equal(detail('COPY /foo <<EOF\nEOF'), 'COPY cannot accept a heredoc as a destination');
  });

  it('checks flags: unknown (with a suggestion), duplicate, missing value, bad boolean', () => {
    assert.equal(detail('COPY --fromm=a x y'), 'unknown flag: --fromm (did you mean from?)');
    assert.equal(detail('ENV --x=1 a=b'), 'unknown flag: --x');
    assert.equal(detail('COPY --from=a --from=b x y'), 'duplicate flag specified: --from');
    assert.equal(detail('COPY --from x y'), 'missing a value on flag: --from');
    assert.equal(detail('COPY --link= x y'), 'missing a value on flag: --link');
    assert.equal(detail('COPY --link=yes x y'), 'expecting boolean value for flag --link, not: yes');
    assert.equal(detail('ADD --from=a x y'), 'unknown flag: --from');
    assert.equal(detail('RUN --network=bridge true'), 'invalid network mode "bridge"');
    assert.equal(detail('RUN --security=root true'), 'security "root" is not valid');
    assert.equal(detail('RUN --mount=type=bind,from=$X,target=/x true'), "'from' doesn't support variable expansion, define alias stage instead");
    assert.equal(detail('RUN --mount= true'), 'failed to parse csv mounts: EOF');
  });

  it('checks ENV and LABEL pairs', () => {
    assert.equal(detail('LABEL =x'), 'LABEL names can not be blank');
    assert.equal(detail('ENV =x'), 'ENV names can not be blank');
    assert.equal(detail('ARG =x'), 'ARG names can not be blank');
  });

  it('checks FROM, stage names and SHELL', () => {
    fails('FROM', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
    fails('FROM a b', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
    fails('FROM a AS b c', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
    fails(
      'FROM a AS 1st',
      `dockerfile parse error on line 1: invalid name for build stage: "1st", name can't start with a number or contain symbols`,
    );
    fails('FROM --platfrom=x a', 'dockerfile parse error on line 1: unknown flag: --platfrom (did you mean platform?)');
    assert.equal(detail('SHELL /bin/bash -c'), 'SHELL requires the arguments to be in JSON form');
  });

  it('checks HEALTHCHECK types, durations and retries', () => {
    assert.equal(detail('HEALTHCHECK NONE x'), 'HEALTHCHECK NONE takes no arguments');
    assert.equal(detail('HEALTHCHECK CONNECT TCP 7000'), 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)');
    assert.equal(detail('HEALTHCHECK CMD'), 'Missing command after HEALTHCHECK CMD');
    assert.equal(detail('HEALTHCHECK --interval=50ns CMD true'), 'Interval "interval" cannot be less than 1ms');
    assert.equal(detail('HEALTHCHECK --timeout=-1s CMD true'), 'Interval "timeout" cannot be less than 1ms');
    assert.equal(detail('HEALTHCHECK --interval=5 CMD true'), 'time: missing unit in duration "5"');
    assert.equal(detail('HEALTHCHECK --interval=5x CMD true'), 'time: unknown unit "x" in duration "5x"');
    assert.equal(detail('HEALTHCHECK --retries=-1 CMD true'), '--retries cannot be negative (-1)');
    assert.equal(detail('HEALTHCHECK --retries=x CMD true'), 'strconv.ParseInt: parsing "x": invalid syntax');
    assert.equal(detail('HEALTHCHECK --retries=3000000000 CMD true'), 'strconv.ParseInt: parsing "3000000000": value out of range');
    assert.equal(detail('HEALTHCHECK --foo=1 CMD true'), 'unknown flag: --foo');
  });

  it('checks VOLUME paths', () => {
    assert.equal(detail('VOLUME [" "]'), 'VOLUME specified can not be an empty string');
  });
});

describe('parser: typed instructions', () => {
  it('types RUN in both forms with flags and heredocs (chomped for <<-)', () => {
    const run = only('RUN --mount=type=cache,target=/root/.cache --network=none <<-EOF bash\n\techo $HOME\n\tEOF') as RunInstruction;
    assert.equal(run.kind, 'run');
    assert.deepEqual(run.command, { json: false, shell: '<<-EOF bash' });
    assert.deepEqual(run.flags, { mount: ['type=cache,target=/root/.cache'], network: ['none'] });
    assert.equal(run.network, 'none');
    assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo $HOME\n', expand: true, chomp: true }]);
    assert.deepEqual(run.range, { startLine: 2, endLine: 4 });
    assert.equal(run.original, 'RUN --mount=type=cache,target=/root/.cache --network=none <<-EOF bash');

    const exec = only('RUN ["echo", "a b"]') as RunInstruction;
    assert.deepEqual(exec.command, { json: true, args: ['echo', 'a b'] });
    const fd = only('RUN 3<<EOF cat /dev/fd/3\nx\nEOF') as RunInstruction;
    assert.equal(fd.heredocs[0]?.fileDescriptor, 3);
  });

  it('types RUN heredocs as BuildKit (TestRunHeredoc)', () => {
    const r1 = only("RUN <<'EOF' | python\nprint(\"hello\")\nprint(\"world\")\nEOF") as RunInstruction;
    assert.deepEqual(r1.command, { json: false, shell: "<<'EOF' | python" });
    assert.deepEqual(r1.heredocs, [{ name: 'EOF', content: 'print("hello")\nprint("world")\n', expand: false, chomp: false }]);
    const r2 = only('RUN ["<<EOF"]') as RunInstruction;
    assert.deepEqual(r2.command, { json: true, args: ['<<EOF'] });
    assert.deepEqual(r2.heredocs, []);
  });

  it('types COPY and ADD with their flags and heredoc sources (TestCopyHeredoc)', () => {
    const c = only('COPY --from=build --chown=1:2 --chmod=0755 --link --exclude=*.md --exclude=x a b /dst/') as CopyInstruction;
    assert.equal(c.kind, 'copy');
    assert.deepEqual(c.sources, ['a', 'b']);
    assert.equal(c.dest, '/dst/');
    assert.equal(c.from, 'build');
    assert.equal(c.chown, '1:2');
    assert.equal(c.chmod, '0755');
    assert.equal(c.link, true);
    assert.deepEqual(c.exclude, ['*.md', 'x']);
    assert.deepEqual(c.flags, { chown: ['1:2'], chmod: ['0755'], link: ['true'], exclude: ['*.md', 'x'], from: ['build'] });

    const cases: Array<[string, string[], Array<[string, string, boolean]>]> = [
      ['COPY <<EOF /bar\nEOF', ['<<EOF'], [['EOF', '', true]]],
      ['COPY <<EOF /bar\nTESTING\nEOF', ['<<EOF'], [['EOF', 'TESTING\n', true]]],
      ['COPY <<-EOF /bar\n\tTESTING\nEOF', ['<<-EOF'], [['EOF', 'TESTING\n', true]]],
      ["COPY <<'EOF' /bar\nTESTING\nEOF", ["<<'EOF'"], [['EOF', 'TESTING\n', false]]],
      [
        'COPY <<EOF1 <<EOF2 /bar\nthis is the first file\nEOF1\nthis is the second file\nEOF2',
        ['<<EOF1', '<<EOF2'],
        [
          ['EOF1', 'this is the first file\n', true],
          ['EOF2', 'this is the second file\n', true],
        ],
      ],
      ['COPY <<EOF foo.txt /bar\nthis is inline\nEOF', ['<<EOF', 'foo.txt'], [['EOF', 'this is inline\n', true]]],
      ['COPY <<EOF /quotes\n"quotes"\nEOF', ['<<EOF'], [['EOF', '"quotes"\n', true]]],
    ];
    for (const [text, sources, docs] of cases) {
      const got = only(text) as CopyInstruction;
      assert.deepEqual(got.sources, sources, text);
      assert.deepEqual(
        got.heredocs.map((h) => [h.name, h.content, h.expand]),
        docs,
        text,
      );
    }

    const add = only('ADD --checksum=sha256:abc --keep-git-dir --unpack=false https://x/y.tar /') as CopyInstruction;
    assert.equal(add.kind, 'add');
    assert.equal(add.checksum, 'sha256:abc');
    assert.equal(add.keepGitDir, true);
    assert.equal(add.unpack, false);
    assert.equal(add.link, false);
    assert.deepEqual(only('COPY ["a b", "/c d"]'), {
      ...only('COPY ["a b", "/c d"]'),
      sources: ['a b'],
      dest: '/c d',
    });
  });

  it('types ENV, LABEL, ARG and the rest', () => {
    assert.deepEqual((only('ENV A=1 B="x y"') as { pairs: unknown }).pairs, [
      { key: 'A', value: '1' },
      { key: 'B', value: '"x y"' },
    ]);
    assert.deepEqual((only('ENV PATH /usr/bin:$PATH') as { pairs: unknown }).pairs, [{ key: 'PATH', value: '/usr/bin:$PATH' }]);
    assert.deepEqual((only('LABEL a.b=c "d e"=f') as { pairs: unknown }).pairs, [
      { key: 'a.b', value: 'c' },
      { key: '"d e"', value: 'f' },
    ]);
    assert.deepEqual((only('ARG A B=2 C=') as { args: unknown }).args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }]);
    assert.deepEqual(only('EXPOSE 80 53/udp 443'), { ...only('EXPOSE 80 53/udp 443'), ports: ['443', '53/udp', '80'] });
    assert.deepEqual((only('VOLUME ["/a", "/b"]') as { paths: unknown }).paths, ['/a', '/b']);
    assert.deepEqual((only('VOLUME /a /b') as { paths: unknown }).paths, ['/a', '/b']);
    assert.equal((only('WORKDIR /a b') as { path: string }).path, '/a b');
    assert.equal((only('USER app:app') as { user: string }).user, 'app:app');
    assert.equal((only('STOPSIGNAL SIGKILL') as { signal: string }).signal, 'SIGKILL');
    assert.equal((only('MAINTAINER Jane <j@x>') as { name: string }).name, 'Jane <j@x>');
    assert.deepEqual((only('SHELL ["/bin/bash", "-c"]') as { args: unknown }).args, ['/bin/bash', '-c']);
    assert.deepEqual((only('CMD echo "$HOME"') as { command: unknown }).command, { json: false, shell: 'echo "$HOME"' });
    assert.deepEqual((only('ENTRYPOINT []') as { command: unknown }).command, { json: true, args: [] });
  });

  it('types HEALTHCHECK as Docker’s Test array', () => {
    const hc = only('HEALTHCHECK --interval=5s --timeout=3s --start-period=1m --start-interval=2s --retries=3 CMD curl -f http://x/ || exit 1');
    assert.deepEqual(
      { ...hc, flags: undefined, range: undefined, original: undefined },
      {
        kind: 'healthcheck',
        none: false,
        test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'],
        interval: '5s',
        timeout: '3s',
        startPeriod: '1m',
        startInterval: '2s',
        retries: '3',
        flags: undefined,
        range: undefined,
        original: undefined,
      },
    );
    assert.deepEqual((only('HEALTHCHECK CMD ["/bin/check", "-q"]') as { test: unknown }).test, ['CMD', '/bin/check', '-q']);
    assert.deepEqual((only('healthcheck cmd hello world') as { test: unknown }).test, ['CMD-SHELL', 'hello world']);
    assert.equal((only('HEALTHCHECK none') as { none: boolean }).none, true);
    // BuildKit does not look at flags given with NONE.
    assert.equal((only('HEALTHCHECK --bogus=1 NONE') as { none: boolean }).none, true);
    const zero = only('HEALTHCHECK --start-period=0s --interval=0s --timeout=0s --retries=0 CMD ["foo"]');
    assert.equal((zero as { retries?: string }).retries, '0');
  });

  it('keeps the ONBUILD trigger as written, heredoc bodies appended (BuildKit Expression)', () => {
    assert.equal((only('ONBUILD RUN make install') as { trigger: string }).trigger, 'RUN make install');
    assert.equal((only('  onbuild   COPY . /app') as { trigger: string }).trigger, 'COPY . /app');
    const t = only('ONBUILD RUN <<EOF\necho hi\nEOF') as { trigger: string };
    assert.equal(t.trigger, 'RUN <<EOF\necho hi\nEOF');
    const again = parseInstruction(t.trigger) as RunInstruction;
    assert.deepEqual(again.heredocs, [{ name: 'EOF', content: 'echo hi\n', expand: true, chomp: false }]);
  });
});

describe('parser: parseDockerfile', () => {
  it('groups instructions into stages after the meta ARGs', () => {
    const df = parseDockerfile(
      '# syntax=docker/dockerfile:1\nARG BASE=busybox\nARG V\nFROM ${BASE}:${V} AS Build\nARG V\nRUN make\n\n' +
        'FROM --platform=$BUILDPLATFORM scratch\nCOPY --from=build /out /\n',
    );
    assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1' });
    assert.equal(df.escape, '\\');
    assert.deepEqual(
      df.metaArgs.map((a) => a.args),
      [[{ key: 'BASE', value: 'busybox' }], [{ key: 'V' }]],
    );
    assert.equal(df.stages.length, 2);
    const [build, final] = df.stages;
    assert.equal(build?.name, 'build');
    assert.equal(build?.index, 0);
    assert.equal(build?.from.image, '${BASE}:${V}');
    assert.equal(build?.from.stageName, 'build');
    assert.deepEqual(
      build?.instructions.map((i) => i.kind),
      ['arg', 'run'],
    );
    assert.equal(final?.name, undefined);
    assert.equal(final?.index, 1);
    assert.equal(final?.from.platform, '$BUILDPLATFORM');
    assert.deepEqual(final?.from.range, { startLine: 8, endLine: 8 });
    assert.deepEqual(df.warnings, []);
  });

  it('reports the empty-continuation warning', () => {
    const df = parseDockerfile('FROM a\nRUN a \\\n\n b\n');
    assert.deepEqual(df.warnings, ['Empty continuation line found in: RUN a  b']);
  });

  it('uses the escape directive everywhere, ENV pairs included', () => {
    const df = parseDockerfile('# escape=`\nFROM a\nENV P=C:\\x\\y `\n  Q=a` b\nRUN dir c:\\ `\n  /b\n');
    assert.equal(df.escape, '`');
    const [env, run] = df.stages[0]?.instructions ?? [];
    assert.deepEqual((env as { pairs: unknown }).pairs, [
      { key: 'P', value: 'C:\\x\\y' },
      { key: 'Q', value: 'a` b' },
    ]);
    assert.deepEqual((run as RunInstruction).command, { json: false, shell: 'dir c:\\   /b' });
  });

  it('words whole-file and instruction errors as Docker’s legacy builder, with lines', () => {
    fails('', 'the Dockerfile (Dockerfile) cannot be empty');
    assert.throws(() => parseDockerfile('', { name: '.dockerfile.abc' }), { message: 'the Dockerfile (.dockerfile.abc) cannot be empty' });
    fails('# Hello\n# These are just comments\n\n', 'failed to parse Dockerfile: file with no instructions');
    fails(' \n\t\n', 'failed to parse Dockerfile: file with no instructions');
    fails('FROM busybox\n\nENV PATH', 'failed to parse Dockerfile: ENV must have two arguments', [3, 3]);
    fails('FROM busybox\nENV a=b c', `failed to parse Dockerfile: Syntax error - can't find = in "c". Must be of the form: name=value`);
    fails('FROM busybox\n\nFOO bar', 'dockerfile parse error on line 3: unknown instruction: FOO (did you mean FROM?)', [3, 3]);
    fails('FROM busybox\nCOPY --boo \\\n  a b', 'dockerfile parse error on line 2: unknown flag: --boo', [2, 3]);
    fails('RUN echo', 'no build stage in current context', [1, 1]);
    fails('ARG A\nENV B=1\nFROM a', 'no build stage in current context', [2, 2]);
    fails('FROM a\nCMD ["a", 1]', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only');
  });

  it('accepts a Dockerfile with only meta ARGs (the builder reports it has nothing to build)', () => {
    const df = parseDockerfile('ARG A=1\n');
    assert.equal(df.stages.length, 0);
    assert.equal(df.metaArgs.length, 1);
  });
});

describe('parser: parseInstruction (ONBUILD triggers)', () => {
  it('parses one instruction, flags included', () => {
    const c = parseInstruction('COPY --chown=app . /src') as CopyInstruction;
    assert.equal(c.kind, 'copy');
    assert.equal(c.chown, 'app');
    assert.deepEqual(c.range, { startLine: 1, endLine: 1 });
  });

  it('refuses several instructions, FROM, and bad ones with bare messages', () => {
    assert.throws(() => parseInstruction('RUN a\nRUN b'), { message: 'onbuild trigger should be a single expression' });
    assert.throws(() => parseInstruction('FROM a'), { message: '*instructions.Stage is not a command type' });
    assert.throws(() => parseInstruction('FOO a'), { message: 'unknown instruction: FOO (did you mean FROM?)' });
    assert.throws(() => parseInstruction('ENV A'), { message: 'ENV must have two arguments' });
    assert.throws(() => parseInstruction(''), { message: 'file with no instructions' });
  });

  it('uses the escape token it is given', () => {
    const r = parseInstruction('RUN a `\n b', '`') as RunInstruction;
    assert.deepEqual(r.command, { json: false, shell: 'a  b' });
  });
});
