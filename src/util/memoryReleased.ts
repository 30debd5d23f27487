/**
 * util/memoryReleased: a flag that code freeing memory in bulk (a worker thread's isolate
 * ending, a buffer pool let go) raises, so that the daemon's idle trim (daemon/idleTrim)
 * gives the pages back to the kernel even when the daemon has been quiet since its last trim.
 * Those frees come seconds after the work that caused them, when the trim that followed the
 * work has already run (decisions B98). Per isolate: raised in a worker thread it does nothing.
 */
let pending = false;

/** Says that memory was freed in bulk and a trim would now give pages back. */
export function memoryReleased(): void {
  pending = true;
}

/** Whether memory was released since the last `takeMemoryReleased()`; clears the flag. */
export function takeMemoryReleased(): boolean {
  const was = pending;
  pending = false;
  return was;
}
