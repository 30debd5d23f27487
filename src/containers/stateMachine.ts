/**
 * containers/stateMachine: the allowed moves between container states, in one
 * table (DESIGN style 9). Every state change goes through `transition`, which
 * throws ConflictError with Docker's wording for an illegal move.
 */
import { ConflictError } from '../errdefs/errors.js';
import type { ContainerState, ContainerStatus } from './types.js';

const ALLOWED: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['running', 'exited', 'removing', 'dead'],
  running: ['paused', 'exited', 'restarting', 'removing', 'dead'],
  paused: ['running', 'exited', 'removing', 'dead'],
  restarting: ['running', 'exited', 'removing', 'dead', 'restarting'],
  exited: ['running', 'restarting', 'removing', 'dead', 'exited'],
  removing: ['dead', 'exited'],
  dead: ['removing'],
};

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Returns the new state; the caller persists it. */
export function transition(state: ContainerState, to: ContainerStatus, name: string): ContainerState {
  if (!canTransition(state.Status, to)) {
    throw new ConflictError(`cannot move container ${name} from ${state.Status} to ${to}`);
  }
  return {
    ...state,
    Status: to,
    // As Docker: a container waiting to be restarted counts as running (ps lists it, wait does not return).
    Running: to === 'running' || to === 'paused' || to === 'restarting',
    Paused: to === 'paused',
    Restarting: to === 'restarting',
    Dead: to === 'dead',
  };
}
