// The one V8 call in native/engine (decisions B99): Isolate::LowMemoryNotification, V8's embedder
// API for "give memory back now". Node has no JavaScript for it.
#include <v8.h>

extern "C" void berth_reduce_heap(void) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  // Full collections, compacting, until one frees nothing more; the young generation shrinks back.
  if (isolate != nullptr) isolate->LowMemoryNotification();
}
