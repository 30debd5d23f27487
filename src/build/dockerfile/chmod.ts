/**
 * build/dockerfile/chmod: COPY/ADD `--chmod` values as BuildKit takes them —
 * an octal mode up to 07777, or a chmod(1) symbolic mode (`u+x,go-w`,
 * `=rw,+X`) applied per file (tonistiigi/dchapes-mode, a port of BSD
 * setmode, with umask 0 as fsutil's copy uses). Pure; throws
 * InvalidArgumentErrors with BuildKit's texts (the builder adds the line).
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import { goParseUint } from './goText.js';

export type Chmod =
  | { kind: 'octal'; mode: number }
  | {
      kind: 'symbolic';
      text: string;
      /** The permission bits (07777) after applying the mode to a file with `mode` (07777 bits). */
      apply(mode: number, isDir: boolean): number;
    };

const isUID = 0o4000;
const isGID = 0o2000;
const isTXT = 0o1000;
const iRWXU = 0o700;
const iRWXG = 0o070;
const iRWXO = 0o007;
const iRUser = 0o400;
const iRGroup = 0o040;
const iROther = 0o004;
const standardBits = isUID | isGID | iRWXU | iRWXG | iRWXO;
const all = 0xffff;

const cmd2Clear = 1;
const cmd2Set = 2;
const cmd2GBits = 4;
const cmd2OBits = 8;
const cmd2UBits = 16;

interface BitCmd {
  cmd: string;
  cmd2: number;
  bits: number;
}

class SyntaxError_ extends Error {
  constructor() {
    super('invalid syntax');
  }
}

function addCmd(cmds: BitCmd[], opIn: string, who: number, oparg: number, mask: number): void {
  let op = opIn;
  if (op === '=') {
    cmds.push({ cmd: '-', cmd2: 0, bits: who !== 0 ? who : standardBits });
    op = '+';
  }
  if (op === '+' || op === '-' || op === 'X') {
    cmds.push({ cmd: op, cmd2: 0, bits: (who !== 0 ? who : mask) & oparg });
    return;
  }
  // 'u', 'g', 'o': copy one class's bits to others.
  let cmd2 = 0;
  let bits: number;
  if (who !== 0) {
    if (who & iRUser) cmd2 |= cmd2UBits;
    if (who & iRGroup) cmd2 |= cmd2GBits;
    if (who & iROther) cmd2 |= cmd2OBits;
    bits = all;
  } else {
    cmd2 = cmd2UBits | cmd2GBits | cmd2OBits;
    bits = mask;
  }
  const opChar = String.fromCharCode(oparg);
  if (opChar === '+') cmd2 |= cmd2Set;
  else if (opChar === '-') cmd2 |= cmd2Clear;
  else if (opChar === '=') cmd2 |= cmd2Set | cmd2Clear;
  cmds.push({ cmd: op, cmd2, bits });
}

/** ParseWithUmask(s, 0) for a symbolic mode: the list of bit commands. */
function parseSymbolic(text: string): BitCmd[] {
  const cmds: BitCmd[] = [];
  const mask = all; // umask 0
  let s = text;
  let equalOpDone = false;
  const first = (): string => {
    if (s === '') throw new SyntaxError_();
    return s[0] ?? '';
  };
  for (;;) {
    let who = 0;
    for (;;) {
      const c = first();
      if (c === 'a') who |= standardBits;
      else if (c === 'u') who |= isUID | iRWXU;
      else if (c === 'g') who |= isGID | iRWXG;
      else if (c === 'o') who |= iRWXO;
      else break;
      s = s.slice(1);
    }
    for (;;) {
      const op = first();
      s = s.slice(1);
      if (op === '=') equalOpDone = false;
      else if (op !== '+' && op !== '-') throw new SyntaxError_();
      who &= ~isTXT;
      let perm = 0;
      let permX = 0;
      for (;; s = s.slice(1)) {
        const b = s[0] ?? '';
        if (b === 'r') perm |= 0o444;
        else if (b === 's') {
          if (who === 0 || (who & ~iRWXO) !== 0) perm |= isUID | isGID;
        } else if (b === 't') {
          if (who === 0 || (who & ~iRWXO) !== 0) {
            who |= isTXT;
            perm |= isTXT;
          }
        } else if (b === 'w') perm |= 0o222;
        else if (b === 'X') {
          if (op === '+') permX = 0o111;
        } else if (b === 'x') perm |= 0o111;
        else if (b === 'u' || b === 'g' || b === 'o') {
          if (perm !== 0) {
            addCmd(cmds, op, who, perm, mask);
            perm = 0;
          }
          if (op === '=') equalOpDone = true;
          if (permX !== 0) {
            addCmd(cmds, 'X', who, permX, mask);
            permX = 0;
          }
          addCmd(cmds, b, who, op.charCodeAt(0), mask);
        } else {
          if (perm !== 0 || (op === '=' && !equalOpDone)) {
            if (op === '=') equalOpDone = true;
            addCmd(cmds, op, who, perm, mask);
            perm = 0;
          }
          if (permX !== 0) addCmd(cmds, 'X', who, permX, mask);
          break;
        }
      }
      if (s === '') return cmds;
      if (s[0] !== ',') continue; // another op for the same who
      s = s.slice(1);
      break;
    }
  }
}

function applyCmds(cmds: readonly BitCmd[], perm: number, isDir: boolean): number {
  const omode = perm & 0o7777;
  let newmode = omode;
  const common = (c: BitCmd, value: number): void => {
    if (c.cmd2 & cmd2Clear) {
      const clrval = c.cmd2 & cmd2Set ? iRWXO : value;
      if (c.cmd2 & cmd2UBits) newmode &= ~((clrval << 6) & c.bits);
      if (c.cmd2 & cmd2GBits) newmode &= ~((clrval << 3) & c.bits);
      if (c.cmd2 & cmd2OBits) newmode &= ~(clrval & c.bits);
    }
    if (c.cmd2 & cmd2Set) {
      if (c.cmd2 & cmd2UBits) newmode |= (value << 6) & c.bits;
      if (c.cmd2 & cmd2GBits) newmode |= (value << 3) & c.bits;
      if (c.cmd2 & cmd2OBits) newmode |= value & c.bits;
    }
  };
  for (const c of cmds) {
    switch (c.cmd) {
      case 'u':
        common(c, (newmode & iRWXU) >> 6);
        break;
      case 'g':
        common(c, (newmode & iRWXG) >> 3);
        break;
      case 'o':
        common(c, newmode & iRWXO);
        break;
      case '+':
        newmode |= c.bits;
        break;
      case '-':
        newmode &= ~c.bits;
        break;
      case 'X':
        if ((omode & 0o111) !== 0 || isDir) newmode |= c.bits;
        break;
    }
  }
  return newmode & 0o7777;
}

/** Parse a `--chmod` value as BuildKit's dispatchCopy does. */
export function parseChmod(value: string): Chmod {
  const nonOctal = new InvalidArgumentError(`invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`);
  let octal: number | undefined;
  try {
    octal = goParseUint(value, 8, 32);
  } catch {
    octal = undefined;
  }
  if (octal !== undefined) {
    if (octal > 0o7777) throw nonOctal;
    return { kind: 'octal', mode: octal };
  }
  // A value that starts with a digit is numeric to the mode parser, and its
  // failure is reported as the octal error.
  if (value === '' || (value[0] ?? '') < '0' || (value[0] ?? '') > '9') {
    let cmds: BitCmd[];
    try {
      cmds = parseSymbolic(value);
    } catch (err) {
      if (err instanceof SyntaxError_) throw new InvalidArgumentError('invalid syntax');
      throw err;
    }
    return { kind: 'symbolic', text: value, apply: (mode, isDir) => applyCmds(cmds, mode, isDir) };
  }
  throw nonOctal;
}
