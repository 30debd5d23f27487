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

  it('refuses what it does not implement and bad syntax instead of guessing', () => {
    assert.throws(() => renderTemplate('{{define "x"}}a{{end}}', data), TemplateError);
    assert.throws(() => renderTemplate('{{nosuch .Id}}', data), /function "nosuch" not defined/);
    assert.throws(() => renderTemplate('{{if .Id}}x', data), /unexpected EOF/);
    assert.throws(() => renderTemplate('{{end}}', data), /unexpected \{\{end\}\}/);
    assert.throws(() => renderTemplate('{{.Id', data), /unclosed action/);
    assert.throws(() => renderTemplate('{{$nope}}', data), /undefined variable/);
  });

  it('ranges over slices and maps (keys sorted), with variables, else, break and continue', () => {
    const nets = { NetworkSettings: { Networks: { b: { IPAddress: '10.0.0.3' }, a: { IPAddress: '10.0.0.2' } } } };
    assert.equal(renderTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', nets), '10.0.0.2 10.0.0.3 ');
    assert.equal(renderTemplate('{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}', nets), 'a=10.0.0.2;b=10.0.0.3;');
    assert.equal(renderTemplate('{{range $i, $c := .Config.Cmd}}{{if $i}},{{end}}{{$c}}{{end}}', data), 'sh,-c,x');
    assert.equal(renderTemplate('{{range .Config.Env}}x{{else}}none{{end}}', data), 'none');
    assert.equal(renderTemplate('{{range .Config.Cmd}}{{if eq . "-c"}}{{continue}}{{end}}{{if eq . "x"}}{{break}}{{end}}{{.}}{{end}}', data), 'sh');
    assert.equal(renderTemplate('{{range .Config.Cmd}}{{$.Id}}{{end}}', data), 'abcabcabc');
  });

  it('if / else if / else, with, and/or/not and comparisons', () => {
    const t = '{{if eq .State.Status "exited"}}E{{else if .State.Running}}R{{else}}?{{end}}';
    assert.equal(renderTemplate(t, data), 'R');
    assert.equal(renderTemplate(t, { State: { Status: 'exited' } }), 'E');
    assert.equal(renderTemplate(t, { State: {} }), '?');
    assert.equal(renderTemplate('{{with .State}}{{.Pid}}{{end}}{{with .Nope}}x{{else}}-{{end}}', data), '42-');
    assert.equal(renderTemplate('{{and .Id .State.Pid}} {{or .Nope "" "d"}} {{not .Id}}', data), '42 d false');
    assert.equal(renderTemplate('{{lt .State.Pid 50}} {{ge .State.Pid 50}} {{ne .Id "abc"}} {{eq .Id "x" "abc"}}', data), 'true false false true');
    assert.equal(renderTemplate('{{if and .State.Running (gt .State.Pid 1)}}ok{{end}}', data), 'ok');
  });

  it('variables, parentheses, printf, len, slice, split and the docker CLI helpers', () => {
    assert.equal(renderTemplate('{{$x := .State.Pid}}{{$x}} {{$x = 7}}{{$x}}', data), '42 7');
    assert.equal(renderTemplate('{{(index .Config.Cmd 1)}} {{len .Config.Cmd}} {{slice .Id 1}}', data), '-c 3 bc');
    assert.equal(renderTemplate('{{printf "%-5s|%3d|%q|%v" .Id .State.Pid .Id .State.Running}}', data), 'abc  | 42|"abc"|true');
    assert.equal(renderTemplate('{{join (split "a:b:c" ":") "-"}} {{title "hello world"}} {{truncate .Id 2}} [{{pad .Id 1 2}}]', data), 'a-b-c Hello World ab [ abc  ]');
    assert.equal(renderTemplate('{{println .Id}}{{print .Id 1 2}}', data), 'abc\nabc1 2');
    assert.equal(renderTemplate('{{/* a comment */}}{{"}}"}}', data), '}}');
    assert.equal(renderTemplate('{{ (index .Config.Labels "com.x") | upper }}', data), 'Y');
  });

  it('prints maps as Go does', () => {
    assert.equal(goPrint({ b: 1, a: 'x' }), 'map[a:x b:1]');
  });
});
