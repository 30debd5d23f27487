/**
 * containers/signals: Docker's signal syntax ("SIGTERM", "TERM", "15") to a
 * signal number. Pure.
 */
import { constants } from 'node:os';
import { InvalidArgumentError } from '../errdefs/errors.js';

export function parseSignal(s: string | number): number {
  if (typeof s === 'number') {
    if (Number.isInteger(s) && s > 0 && s < 65) return s;
    throw new InvalidArgumentError(`Invalid signal: ${s}`);
  }
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) return parseSignal(Number(t));
  const name = (t.startsWith('SIG') ? t : `SIG${t}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw new InvalidArgumentError(`Invalid signal: ${s}`);
  return n;
}
