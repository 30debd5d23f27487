{
  "targets": [
    {
      "target_name": "isal",
      "sources": ["isal.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lisal"]
    }
  ]
}
