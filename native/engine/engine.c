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
 * and GC threads each fill one) back to the kernel once the daemon is idle.
 *
 * Owns: those calls and errno reporting. Never: parses mount options
 * (util/mount.ts turns them into flags + data), reads mountinfo, retries, or
 * decides when to trim (daemon/idleTrim.ts does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <node_api.h>

enum { OP_MOUNT, OP_UMOUNT, OP_TRIM };

typedef struct {
  /* inputs (owned, NUL-terminated; NULL when absent) */
  char *source, *target, *fstype, *data, *cwd;
  unsigned long flags;
  int op; /* OP_MOUNT, OP_UMOUNT: umount2(target, flags), OP_TRIM: malloc_trim(0) */
  /* output */
  int err;
  int trimmed; /* OP_TRIM: malloc_trim's result */
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

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  if (status != napi_ok && j->err == 0) j->err = ECANCELED;
  if (j->err == 0) {
    napi_value v;
    if (j->op == OP_TRIM) napi_get_boolean(env, j->trimmed != 0, &v);
    else napi_get_undefined(env, &v);
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    const char *name = strerrorname_np(j->err);
    napi_value msg, code, errno_v, err;
    napi_create_string_utf8(env, strerror(j->err), NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
    napi_create_int32(env, j->err, &errno_v);
    napi_create_error(env, code, msg, &err);
    napi_set_named_property(env, err, "errno", errno_v);
    napi_reject_deferred(env, j->deferred, err);
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
  napi_create_string_utf8(env, j->op == OP_TRIM ? "berth.trim" : j->op == OP_UMOUNT ? "berth.umount" : "berth.mount", NAPI_AUTO_LENGTH, &name);
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

/* mallocTrim() -> Promise<boolean>: whether any memory went back to the kernel. */
static napi_value js_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->op = OP_TRIM;
  return queue(env, j);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &fn);
  napi_set_named_property(env, exports, "mount", fn);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &fn);
  napi_set_named_property(env, exports, "umount", fn);
  napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, js_malloc_trim, NULL, &fn);
  napi_set_named_property(env, exports, "mallocTrim", fn);
  return exports;
}
