{
  "targets": [
    {
      "target_name": "engine",
      "sources": ["engine.c", "heap.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-O2"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
