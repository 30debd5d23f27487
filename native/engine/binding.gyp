{
  "targets": [
    {
      "target_name": "engine",
      "sources": ["engine.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
