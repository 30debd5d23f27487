/**
 * build/dispatchers: one instruction → its dispatcher (moby's evaluator
 * switch). FROM is not here: it starts a stage (builder/stageRunner).
 */
import { SystemError } from '../../errdefs/errors.js';
import type { Instruction } from '../dockerfile/ast.js';
import { dispatchCopy } from './copy.js';
import {
  dispatchArg,
  dispatchCmd,
  dispatchEntrypoint,
  dispatchEnv,
  dispatchExpose,
  dispatchHealthcheck,
  dispatchLabel,
  dispatchMaintainer,
  dispatchOnbuild,
  dispatchShell,
  dispatchStopsignal,
  dispatchUser,
  dispatchVolume,
} from './metadata.js';
import { dispatchRun } from './run.js';
import type { DispatchContext, StageState } from './types.js';
import { dispatchWorkdir } from './workdir.js';

/** A step of a stage: an instruction, and whether its words are taken literally (`--label` options). */
export interface Step {
  instr: Instruction;
  noExpand?: boolean;
}

export async function dispatch(d: DispatchContext, s: StageState, step: Step): Promise<void> {
  const c = step.instr;
  switch (c.kind) {
    case 'env':
      return dispatchEnv(d, s, c);
    case 'maintainer':
      return dispatchMaintainer(d, s, c);
    case 'label':
      return dispatchLabel(d, s, c, step.noExpand === true);
    case 'add':
    case 'copy':
      return dispatchCopy(d, s, c);
    case 'onbuild':
      return dispatchOnbuild(d, s, c);
    case 'workdir':
      return dispatchWorkdir(d, s, c);
    case 'run':
      return dispatchRun(d, s, c);
    case 'cmd':
      return dispatchCmd(d, s, c);
    case 'healthcheck':
      return dispatchHealthcheck(d, s, c);
    case 'entrypoint':
      return dispatchEntrypoint(d, s, c);
    case 'expose':
      return dispatchExpose(d, s, c);
    case 'user':
      return dispatchUser(d, s, c);
    case 'volume':
      return dispatchVolume(d, s, c);
    case 'stopsignal':
      return dispatchStopsignal(d, s, c);
    case 'arg':
      return dispatchArg(d, s, c);
    case 'shell':
      return dispatchShell(d, s, c);
    case 'from':
      throw new SystemError('FROM is not a step of a stage');
  }
}
