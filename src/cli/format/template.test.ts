import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateError, goPrint, renderTemplate } from './template.js';

const data = {
  Id: 'abc',
  State: { Status: 'running', Pid: 42, Running: true },
  Config: { Labels: { 'com.x': 'y' }, Cmd: ['sh', '-c', 'x'], Env: null },
};

describe('renderTemplate', () => {
  it('prints fields, nested fields and Go-formatted values', () => {
    assert.equal(renderTemplate('{{.Id}} {{.State.Status}} {{.State.Pid}} {{.State.Running}}', data), 'abc running 42 true');
    assert.equal(renderTemplate('{{.Config.Cmd}} {{.Config.Env}} {{.Missing}}', data), '[sh -c x] <nil> <no value>');
  });

  it('supports json, index, join, upper and pipes', () => {
    assert.equal(renderTemplate('{{json .Config.Labels}}', data), '{"com.x":"y"}');
    assert.equal(renderTemplate('{{index .Config.Labels "com.x"}}', data), 'y');
    assert.equal(renderTemplate('{{join .Config.Cmd ","}}', data), 'sh,-c,x');
    assert.equal(renderTemplate('{{.State.Status | upper}}', data), 'RUNNING');
  });

  it('trims around {{- and -}}', () => {
    assert.equal(renderTemplate('a  {{- .Id -}}  b', data), 'aabcb');
  });

  it('refuses control structures instead of guessing', () => {
    assert.throws(() => renderTemplate('{{range .Config.Cmd}}{{.}}{{end}}', data), TemplateError);
    assert.throws(() => renderTemplate('{{nosuch .Id}}', data), /function "nosuch" not defined/);
  });

  it('prints maps as Go does', () => {
    assert.equal(goPrint({ b: 1, a: 'x' }), 'map[a:x b:1]');
  });
});
