/*
 * native/engine: the few calls berthd needs that Node lacks (decisions B53).
 *
 * mount(2) and umount2(2), so a container start and exit need no
 * mount(8)/umount(8) process (each is a fork of the ~80 MB daemon, an exec and
 * libmount's start-up: ~10-25 ms, against well under 1 ms here).
 *
 * Both run as N-API async work (the libuv thread pool): an overlay mount is quick,
 * but an unmount syncs the upper file system and may wait on a busy disk, and
 * neither may stall the event loop. A mount whose options hold paths relative to
 * a directory (the snapshotter's short links, kept short so a long layer chain
 * fits the one-page option string) is made on a thread of its own that first
 * unshare(CLONE_FS)s — giving that thread a private cwd — and chdir()s there:
 * the process's cwd, shared by every other thread, never changes.
 *
 * malloc_trim(3): hands the free pages glibc keeps in its arenas (V8's compiler
 * and GC threads each fill one) back to the kernel once the daemon is idle, and
 * reduceHeap (heap.cc, the one C++ file): V8's LowMemoryNotification, which
 * compacts the JavaScript heap and shrinks its young generation.
 *
 * spawnPiped/waitPid: conmon (and runc) are started with vfork(2) + execve(2):
 * no copy of the daemon's page tables, against the fork(2) of the whole ~70 MB
 * process libuv does (5-15 ms of the event loop, on the path of every container
 * start). The child gets what libuv's spawn gives it: an empty signal mask,
 * every signal at its default, /dev/null on stdin, pipes for stderr and (as
 * asked) stdout and fd 3 (conmon's sync pipe), a new session when asked (conmon
 * outlives the daemon); every other descriptor of the daemon is close-on-exec,
 * as under libuv. The caller reaps the child with tryWaitPid (waitpid WNOHANG) on
 * SIGCHLD, as libuv does for the PIDs it spawned (it waits for no others);
 * waitPid (a blocking waitpid(2) on the thread pool) would hold a pool thread
 * for as long as the child runs.
 *
 * setTopDir: the ext4 "top of a directory hierarchy" inode flag (chattr +T) on the
 * snapshotter's root, so the Orlov allocator spreads the snapshots over block groups
 * (decisions B87).
 *
 * Owns: those calls and errno reporting. Never: parses mount options
 * (util/mount.ts turns them into flags + data), reads mountinfo, retries,
 * decides when to trim (daemon/idleTrim.ts does), or what to run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>
#include <node_api.h>

enum { OP_MOUNT, OP_UMOUNT, OP_TRIM, OP_WAIT };

typedef struct {
  /* inputs (owned, NUL-terminated; NULL when absent) */
  char *source, *target, *fstype, *data, *cwd;
  unsigned long flags;
  int op; /* OP_MOUNT, OP_UMOUNT: umount2(target, flags), OP_TRIM: malloc_trim(0), OP_WAIT: waitpid(pid) */
  pid_t pid;
  /* output */
  int err;
  int trimmed; /* OP_TRIM: malloc_trim's result */
  int status;  /* OP_WAIT: the exit code, or -signal */
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void job_free(job_t *j) {
  free(j->source);
  free(j->target);
  free(j->fstype);
  free(j->data);
  free(j->cwd);
  free(j);
}

static void *in_cwd(void *arg) {
  job_t *j = arg;
  /* A private fs context (cwd, root, umask) for this thread only. */
  if (unshare(CLONE_FS) != 0 || chdir(j->cwd) != 0) {
    j->err = errno;
    return NULL;
  }
  j->err = mount(j->source, j->target, j->fstype, j->flags, j->data) == 0 ? 0 : errno;
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *j = data;
  if (j->op == OP_TRIM) {
    j->err = 0;
    j->trimmed = malloc_trim(0);
  } else if (j->op == OP_WAIT) {
    int st = 0;
    pid_t r;
    do r = waitpid(j->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    j->err = r < 0 ? errno : 0;
    j->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0;
  } else if (j->op == OP_UMOUNT) {
    j->err = umount2(j->target, (int)j->flags) == 0 ? 0 : errno;
  } else if (j->cwd == NULL) {
    j->err = mount(j->source, j->target, j->fstype, j->flags, j->data) == 0 ? 0 : errno;
  } else {
    /* Never unshare a pool thread: it would keep its own cwd for later fs work. */
    pthread_t t;
    int rc = pthread_create(&t, NULL, in_cwd, j);
    if (rc != 0) j->err = rc;
    else pthread_join(t, NULL);
  }
}

/* An Error with Node's shape for a failed syscall: message strerror, code the errno name. */
static napi_value errno_error(napi_env env, int e) {
  const char *name = strerrorname_np(e);
  napi_value msg, code, errno_v, err;
  napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, e, &errno_v);
  napi_create_error(env, code, msg, &err);
  napi_set_named_property(env, err, "errno", errno_v);
  return err;
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  if (status != napi_ok && j->err == 0) j->err = ECANCELED;
  if (j->err == 0) {
    napi_value v;
    if (j->op == OP_TRIM) napi_get_boolean(env, j->trimmed != 0, &v);
    else if (j->op == OP_WAIT) napi_create_int32(env, j->status, &v);
    else napi_get_undefined(env, &v);
    napi_resolve_deferred(env, j->deferred, v);
  } else {
      napi_reject_deferred(env, j->deferred, errno_error(env, j->err));
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

/* A string argument, copied; NULL for null/undefined. Returns 0 on a type error. */
static int str_arg(napi_env env, napi_value v, char **out) {
  napi_valuetype t;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  if (t != napi_string) return 0;
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return 0;
  *out = malloc(len + 1);
  if (*out == NULL) return 0;
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 1;
}

static napi_value queue(napi_env env, job_t *j) {
  napi_value promise, name;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
    job_free(j);
    return NULL;
  }
  napi_create_string_utf8(env, j->op == OP_TRIM ? "berth.trim" : j->op == OP_WAIT ? "berth.waitpid" : j->op == OP_UMOUNT ? "berth.umount" : "berth.mount", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

/* mount(source, target, fstype, flags, data, cwd) -> Promise<void>; strings may be null. */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  double flags = 0;
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 ||
      !str_arg(env, argv[0], &j->source) || !str_arg(env, argv[1], &j->target) ||
      !str_arg(env, argv[2], &j->fstype) || napi_get_value_double(env, argv[3], &flags) != napi_ok ||
      !str_arg(env, argv[4], &j->data) || !str_arg(env, argv[5], &j->cwd) || j->target == NULL) {
    job_free(j);
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data, cwd): bad arguments");
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return queue(env, j);
}

/* umount(target, flags) -> Promise<void> */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t flags = 0;
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      !str_arg(env, argv[0], &j->target) || j->target == NULL ||
      napi_get_value_int32(env, argv[1], &flags) != napi_ok) {
    job_free(j);
    napi_throw_type_error(env, NULL, "umount(target, flags): bad arguments");
    return NULL;
  }
  j->op = OP_UMOUNT;
  j->flags = (unsigned long)flags;
  return queue(env, j);
}

/* heap.cc */
void berth_reduce_heap(void);

/* reduceHeap(): memory-reducing full collections of the calling isolate's heap, now (heap.cc). */
static napi_value js_reduce_heap(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  berth_reduce_heap();
  return NULL;
}

/* mallocTrim() -> Promise<boolean>: whether any memory went back to the kernel. */
static napi_value js_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->op = OP_TRIM;
  return queue(env, j);
}

/* A JS array of strings as a NULL-terminated, malloc'd vector (each string too); NULL on a type error. */
static char **str_vec(napi_env env, napi_value arr) {
  bool is_arr = false;
  uint32_t n = 0;
  if (napi_is_array(env, arr, &is_arr) != napi_ok || !is_arr || napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !str_arg(env, e, &v[i]) || v[i] == NULL) {
      for (uint32_t k = 0; k <= i; k++) free(v[k]);
      free(v);
      return NULL;
    }
  }
  return v;
}

static void vec_free(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/* The kernel's struct sigaction for rt_sigaction(2) (x86_64/arm64 layout: handler, flags, restorer, mask). */
struct k_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

typedef struct {
  const char *file;
  char *const *argv, *const *envp;
  const char *cwd;
  int devnull, out_w, err_w, sync_w; /* out_w < 0: stdout /dev/null; sync_w < 0: no fd 3 */
  int in_r;                          /* < 0: stdin /dev/null */
  int setsid;
  volatile int child_err; /* set by the child (it shares our memory until execve) */
} spawn_req_t;

/*
 * vfork + execve, in a frame of its own: the child runs on this stack until it
 * execs or exits, so it must never return into a caller's frame. Raw syscalls and
 * stores through `r` only (no handler of the daemon may run in the child).
 */
static pid_t __attribute__((noinline)) vfork_exec(spawn_req_t *r) {
  pid_t pid = vfork();
  if (pid != 0) return pid;
  struct k_sigaction dfl = {SIG_DFL, 0, NULL, 0};
  unsigned long none = 0;
  if (dup2(r->in_r >= 0 ? r->in_r : r->devnull, 0) < 0 || dup2(r->out_w >= 0 ? r->out_w : r->devnull, 1) < 0 || dup2(r->err_w, 2) < 0 ||
      /* dup2 onto itself would keep close-on-exec */
      (r->sync_w >= 0 && (r->sync_w == 3 ? fcntl(3, F_SETFD, 0) : dup2(r->sync_w, 3)) < 0) || chdir(r->cwd) != 0 ||
      (r->setsid && setsid() < 0)) {
    r->child_err = errno;
    _exit(127);
  }
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
  execve(r->file, r->argv, r->envp);
  r->child_err = errno;
  _exit(127);
}

/*
 * spawnPiped(file, argv, env, cwd[, flags]) -> { pid, stdout, stderr, fd3 }: runs `file`
 * (an absolute path; argv[0] included in argv) in `cwd`, with exactly `env`; stdin
 * /dev/null, stderr (and as flags say, stdout and fd 3) the write ends of pipes whose
 * read ends (non-blocking, close-on-exec) are returned, -1 for those not asked for
 * (stdout is then /dev/null). flags (default 3): 1 = a new session (setsid), 2 = the
 * fd 3 pipe, 4 = the stdout pipe, 8 = a stdin pipe (its write end, non-blocking, is
 * returned as `stdin`; otherwise stdin is /dev/null). Throws an errno Error (the child's, when chdir or
 * execve failed).
 *
 * vfork(2), not posix_spawn(3): glibc's posix_spawn leaves its two internal signals
 * (32, 33) ignored in the child, and an ignored signal stays ignored across execve —
 * down to the container's process (conmon and runc do not reset them). The child
 * here runs with every signal blocked (raw rt_sigprocmask: glibc's API cannot block
 * the internal ones), resets every disposition to the default with raw syscalls (no
 * handler of the daemon can run in it), then unblocks and execs — what libuv's
 * fork-based spawn gives a child.
 */
static napi_value js_spawn_piped(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  char *file = NULL, *cwd = NULL, **args = NULL, **envp = NULL;
  int p_err[2] = {-1, -1}, p_sync[2] = {-1, -1}, p_out[2] = {-1, -1}, p_in[2] = {-1, -1}, devnull = -1;
  int32_t flags = 3;
  int e = 0;
  pid_t pid = 0;
  napi_value result = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      !str_arg(env, argv[0], &file) || file == NULL || (args = str_vec(env, argv[1])) == NULL ||
      (envp = str_vec(env, argv[2])) == NULL || !str_arg(env, argv[3], &cwd) || cwd == NULL ||
      (argc > 4 && napi_get_value_int32(env, argv[4], &flags) != napi_ok)) {
    napi_throw_type_error(env, NULL, "spawnPiped(file, argv, env, cwd[, flags]): bad arguments");
    goto out;
  }
  if (pipe2(p_err, O_CLOEXEC) != 0 || ((flags & 2) && pipe2(p_sync, O_CLOEXEC) != 0) ||
      ((flags & 4) && pipe2(p_out, O_CLOEXEC) != 0) || ((flags & 8) && pipe2(p_in, O_CLOEXEC) != 0) ||
      (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
    e = errno;
    goto out;
  }
  {
    unsigned long all = ~0UL, old = 0;
    spawn_req_t req = {file, args, envp, cwd, devnull, p_out[1], p_err[1], p_sync[1], p_in[0], flags & 1, 0};
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
    pid = vfork_exec(&req);
    if (pid < 0) e = errno;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    if (pid > 0 && req.child_err != 0) {
      /* It never ran: reap it here (it has exited: vfork returned) and report why. */
      e = req.child_err;
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
    }
    if (e != 0) goto out;
  }
  fcntl(p_err[0], F_SETFL, fcntl(p_err[0], F_GETFL) | O_NONBLOCK);
  if (p_sync[0] >= 0) fcntl(p_sync[0], F_SETFL, fcntl(p_sync[0], F_GETFL) | O_NONBLOCK);
  if (p_out[0] >= 0) fcntl(p_out[0], F_SETFL, fcntl(p_out[0], F_GETFL) | O_NONBLOCK);
  if (p_in[1] >= 0) fcntl(p_in[1], F_SETFL, fcntl(p_in[1], F_GETFL) | O_NONBLOCK);
  {
    napi_value o, v;
    napi_create_object(env, &o);
    napi_create_int32(env, pid, &v);
    napi_set_named_property(env, o, "pid", v);
    napi_create_int32(env, p_err[0], &v);
    napi_set_named_property(env, o, "stderr", v);
    napi_create_int32(env, p_sync[0], &v);
    napi_set_named_property(env, o, "fd3", v);
    napi_create_int32(env, p_out[0], &v);
    napi_set_named_property(env, o, "stdout", v);
    napi_create_int32(env, p_in[1], &v);
    napi_set_named_property(env, o, "stdin", v);
    result = o;
    p_err[0] = p_sync[0] = p_out[0] = p_in[1] = -1; /* the caller's now */
  }
out:
  for (int i = 0; i < 2; i++) {
    if (p_err[i] >= 0) close(p_err[i]);
    if (p_sync[i] >= 0) close(p_sync[i]);
    if (p_out[i] >= 0) close(p_out[i]);
    if (p_in[i] >= 0) close(p_in[i]);
  }
  if (devnull >= 0) close(devnull);
  free(file);
  free(cwd);
  vec_free(args);
  vec_free(envp);
  if (e != 0) napi_throw(env, errno_error(env, e));
  return result;
}

/* waitPid(pid) -> Promise<number>: reaps the child; its exit code, or -signal when a signal ended it. */
static napi_value js_wait_pid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "waitPid(pid): bad arguments");
    return NULL;
  }
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->op = OP_WAIT;
  j->pid = pid;
  return queue(env, j);
}

/*
 * tryWaitPid(pid) -> number | null: reaps the child if it has exited (waitpid WNOHANG):
 * its exit code, or -signal; null while it runs. Throws an errno Error (ECHILD: not
 * our child, or reaped already). The caller calls it on SIGCHLD, as libuv does for its own.
 */
static napi_value js_try_wait_pid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  int32_t pid = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "tryWaitPid(pid): bad arguments");
    return NULL;
  }
  int st = 0;
  pid_t r;
  do r = waitpid(pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    napi_throw(env, errno_error(env, errno));
    return NULL;
  }
  if (r == 0) {
    napi_get_null(env, &v);
    return v;
  }
  napi_create_int32(env, WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0, &v);
  return v;
}

/* linux/fs.h's values (a stable ABI), spelled out: that header clashes with glibc's sys/mount.h. */
#define BERTH_FS_IOC_GETFLAGS _IOR('f', 1, long)
#define BERTH_FS_IOC_SETFLAGS _IOW('f', 2, long)
#define BERTH_FS_TOPDIR_FL 0x00020000

/*
 * setTopDir(path) -> boolean: sets FS_TOPDIR_FL on the directory `path` (what chattr +T
 * does); true once it is set, false when the file system keeps no such flag (ENOTTY,
 * EOPNOTSUPP, EINVAL: not ext2/3/4). Throws an errno Error otherwise. Synchronous: two
 * ioctls on a directory, once at start.
 *
 * alignmentOffset(bytes, align) -> number: how many bytes into `bytes` (a Uint8Array) the
 * first `align`-aligned address is (0 when it starts aligned). For O_DIRECT reads and writes
 * of layer blobs (decisions B90), which need the memory, the file offset and the length
 * aligned to the device's logical block: Node cannot ask for an aligned Buffer, but a
 * backing store never moves, so a view at this offset of a slightly larger one stays aligned.
 *
 * releaseBuffer(bytes): detaches the ArrayBuffer under `bytes`, which frees its memory now
 * instead of at some later garbage collection (every view of it becomes empty). For the
 * 1 MiB O_DIRECT buffers, given back when ingests stop (B90).
 */
static napi_value js_set_top_dir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  char *path = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !str_arg(env, argv[0], &path) || path == NULL) {
    free(path);
    napi_throw_type_error(env, NULL, "setTopDir(path): bad arguments");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  free(path);
  if (fd < 0) {
    napi_throw(env, errno_error(env, errno));
    return NULL;
  }
  int flags = 0, e = 0;
  if (ioctl(fd, BERTH_FS_IOC_GETFLAGS, &flags) < 0) e = errno;
  else if ((flags & BERTH_FS_TOPDIR_FL) == 0) {
    flags |= BERTH_FS_TOPDIR_FL;
    if (ioctl(fd, BERTH_FS_IOC_SETFLAGS, &flags) < 0) e = errno;
  }
  close(fd);
  if (e == ENOTTY || e == EOPNOTSUPP || e == EINVAL) {
    napi_get_boolean(env, 0, &v);
    return v;
  }
  if (e != 0) {
    napi_throw(env, errno_error(env, e));
    return NULL;
  }
  napi_get_boolean(env, 1, &v);
  return v;
}

static napi_value js_alignment_offset(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], v;
  void *data = NULL;
  size_t len = 0;
  uint32_t align = 0;
  bool is_ta = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[0], NULL, &len, &data, NULL, NULL) != napi_ok || napi_get_value_uint32(env, argv[1], &align) != napi_ok ||
      align == 0 || (align & (align - 1)) != 0) {
    napi_throw_type_error(env, NULL, "alignmentOffset(bytes, align): a Uint8Array and a power of two");
    return NULL;
  }
  uint32_t rem = (uint32_t)((uintptr_t)data & (align - 1));
  napi_create_uint32(env, rem == 0 ? 0 : align - rem, &v);
  return v;
}

static napi_value js_release_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ab;
  bool is_ta = false, detachable = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[0], NULL, NULL, NULL, &ab, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "releaseBuffer(bytes): a Uint8Array");
    return NULL;
  }
  if (napi_is_detached_arraybuffer(env, ab, &detachable) == napi_ok && detachable) return NULL;
  if (napi_detach_arraybuffer(env, ab) != napi_ok) {
    napi_throw_error(env, NULL, "releaseBuffer: the buffer cannot be detached");
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &fn);
  napi_set_named_property(env, exports, "mount", fn);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &fn);
  napi_set_named_property(env, exports, "umount", fn);
  napi_create_function(env, "reduceHeap", NAPI_AUTO_LENGTH, js_reduce_heap, NULL, &fn);
  napi_set_named_property(env, exports, "reduceHeap", fn);
  napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, js_malloc_trim, NULL, &fn);
  napi_set_named_property(env, exports, "mallocTrim", fn);
  napi_create_function(env, "spawnPiped", NAPI_AUTO_LENGTH, js_spawn_piped, NULL, &fn);
  napi_set_named_property(env, exports, "spawnPiped", fn);
  napi_create_function(env, "waitPid", NAPI_AUTO_LENGTH, js_wait_pid, NULL, &fn);
  napi_set_named_property(env, exports, "waitPid", fn);
  napi_create_function(env, "tryWaitPid", NAPI_AUTO_LENGTH, js_try_wait_pid, NULL, &fn);
  napi_set_named_property(env, exports, "tryWaitPid", fn);
  napi_create_function(env, "setTopDir", NAPI_AUTO_LENGTH, js_set_top_dir, NULL, &fn);
  napi_set_named_property(env, exports, "setTopDir", fn);
  napi_create_function(env, "alignmentOffset", NAPI_AUTO_LENGTH, js_alignment_offset, NULL, &fn);
  napi_set_named_property(env, exports, "alignmentOffset", fn);
  napi_create_function(env, "releaseBuffer", NAPI_AUTO_LENGTH, js_release_buffer, NULL, &fn);
  napi_set_named_property(env, exports, "releaseBuffer", fn);
  return exports;
}
