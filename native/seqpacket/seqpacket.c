/*
 * native/seqpacket: a SOCK_SEQPACKET unix-socket client on Node's event loop, for conmon's
 * attach socket (conmon speaks nothing else there; node:net cannot open one). Replaces the
 * node-unix-socket package (decisions B99): the same few calls, without a second runtime's
 * prebuilt library resident in every daemon.
 *
 * connect(path, onEvent) -> handle: a non-blocking socket and connect, which on a unix
 *   socket completes or fails at once (ENOENT, ECONNREFUSED; EAGAIN when the listener's
 *   backlog is full, where a blocking connect would stall the event loop), then polled for
 *   reading on the loop (uv_poll). Every packet that arrives is passed whole to
 *   onEvent(EV_DATA, buffer); the end of the stream is onEvent(EV_END), a failed read
 *   onEvent(EV_ERROR, errno). After EV_END or EV_ERROR no more reads are made.
 * send(handle, bytes) -> number: one packet, never blocking: the bytes sent (all of them:
 *   a packet is not split), or -errno (-EAGAIN: the peer's queue is full; wantWrite(handle)
 *   then brings one onEvent(EV_WRITABLE) when it has room).
 * shutdown(handle): shutdown(SHUT_WR); reading goes on.
 * close(handle): stops polling and closes the socket; no event comes after it.
 *
 * Owns: the descriptor and its poll handle. Never: interprets packets (runtime/seqpacket.ts
 * and runtime/attach.ts do), retries, or keeps the loop alive once closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

enum { EV_DATA = 0, EV_END = 1, EV_ERROR = 2, EV_WRITABLE = 3 };

/* conmon's packets are at most 8 KiB + 1; a larger one would be cut here and flagged. */
#define MAX_PACKET 65536
/* Packets read per readiness event before yielding to the rest of the loop. */
#define READS_PER_EVENT 64

typedef struct {
  uv_poll_t poll;
  int fd;
  int reading;    /* still polling for input */
  int want_write; /* one EV_WRITABLE asked for */
  int closed;        /* close() or the finalizer has begun releasing it */
  int handle_closed; /* libuv is done with the poll handle */
  int finalized;     /* the JS handle is gone */
  napi_env env;
  napi_ref on_event;
  napi_async_context ctx;
} sp_t;

static char packet[MAX_PACKET];

static napi_value errno_error(napi_env env, int e, const char *what) {
  const char *name = strerrorname_np(e);
  char buf[256];
  napi_value msg, code, errno_v, err;
  snprintf(buf, sizeof buf, "%s: %s", what, strerror(e));
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, e, &errno_v);
  napi_create_error(env, code, msg, &err);
  napi_set_named_property(env, err, "errno", errno_v);
  return err;
}

static void update_poll(sp_t *s);

/* Calls onEvent(kind, arg) as a callback from the loop: microtasks and nextTicks run after it. */
static void emit(sp_t *s, int kind, const char *data, size_t len, int err) {
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value fn, recv, argv[2], result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_get_reference_value(env, s->on_event, &fn);
  napi_get_global(env, &recv); /* MakeCallback wants an object as `this` */
  napi_create_int32(env, kind, &argv[0]);
  if (kind == EV_DATA) {
    void *copy;
    napi_create_buffer_copy(env, len, data, &copy, &argv[1]);
  } else {
    napi_create_int32(env, err, &argv[1]);
  }
  if (fn != NULL && napi_make_callback(env, s->ctx, recv, fn, 2, argv, &result) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
  napi_close_handle_scope(env, scope);
}

static void fail(sp_t *s, int e) {
  s->reading = 0;
  s->want_write = 0;
  update_poll(s);
  emit(s, EV_ERROR, NULL, 0, e);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  sp_t *s = handle->data;
  if (s->closed) return;
  int polled_error = status < 0;
  if (polled_error) {
    /* libuv reports POLLERR (a reset peer, say) as UV_EBADF and stops the handle: the socket's
     * own calls say what happened, after any packets still queued. */
    events = UV_READABLE | (s->want_write ? UV_WRITABLE : 0);
  }
  if ((events & UV_WRITABLE) && s->want_write) {
    s->want_write = 0;
    update_poll(s);
    emit(s, EV_WRITABLE, NULL, 0, 0);
    if (s->closed) return;
  }
  if ((events & (UV_READABLE | UV_DISCONNECT)) && s->reading) {
    for (int i = 0; i < READS_PER_EVENT && s->reading && !s->closed; i++) {
      ssize_t n = recv(s->fd, packet, sizeof packet, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          fail(s, errno);
          return;
        }
        if (polled_error && i == 0) {
          /* An error poll reported but no read shows: take it from SO_ERROR, or it would poll again at once. */
          int e = 0;
          socklen_t len = sizeof e;
          if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e == 0) e = EIO;
          fail(s, e);
          return;
        }
        break;
      }
      if (n == 0) {
        /* Orderly shutdown by the peer (conmon sends no empty packets: each has its stream byte). */
        s->reading = 0;
        update_poll(s);
        emit(s, EV_END, NULL, 0, 0);
        return;
      }
      if ((size_t)n > sizeof packet) {
        fail(s, EMSGSIZE);
        return;
      }
      emit(s, EV_DATA, packet, (size_t)n, 0);
    }
  }
  /* libuv stopped the handle on the error: poll again for what is still wanted. */
  if (polled_error && !s->closed) update_poll(s);
}

static void update_poll(sp_t *s) {
  if (s->closed) return;
  int ev = (s->reading ? UV_READABLE | UV_DISCONNECT : 0) | (s->want_write ? UV_WRITABLE : 0);
  if (ev == 0) uv_poll_stop(&s->poll);
  else uv_poll_start(&s->poll, ev, on_poll);
}

/* The struct outlives both the poll handle (libuv's close callback) and the JS handle (its finalizer). */
static void on_closed(uv_handle_t *handle) {
  sp_t *s = handle->data;
  close(s->fd);
  s->handle_closed = 1;
  if (s->finalized) free(s);
}

static void sp_release(napi_env env, sp_t *s, int in_finalizer) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  napi_delete_reference(env, s->on_event);
  s->on_event = NULL;
  /* Not from a finalizer, which may run inside a garbage collection: the async id is then left. */
  if (!in_finalizer) napi_async_destroy(env, s->ctx);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

/* Only reached after close() in practice: until then the strong reference to onEvent keeps the handle alive. */
static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  sp_t *s = data;
  s->finalized = 1;
  if (!s->closed) sp_release(env, s, 1);
  else if (s->handle_closed) free(s);
}

static sp_t *unwrap(napi_env env, napi_value v);

/* The open handle that is a call's first argument, or NULL with a JS exception pending. */
static sp_t *handle_arg(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "seqpacket: missing arguments");
    return NULL;
  }
  return unwrap(env, argv[0]);
}

static sp_t *unwrap(napi_env env, napi_value v) {
  sp_t *s = NULL;
  if (napi_get_value_external(env, v, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "not a seqpacket handle");
    return NULL;
  }
  if (s->closed) {
    napi_throw(env, errno_error(env, EBADF, "seqpacket"));
    return NULL;
  }
  return s;
}

/* connect(path, onEvent) -> handle */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], handle, name;
  napi_valuetype t;
  struct sockaddr_un addr;
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "connect(path, onEvent)");
    return NULL;
  }
  /* Read into more room than sun_path has, so a path one byte too long is told from one that fits. */
  char path[sizeof addr.sun_path + 2];
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "connect: path must be a string");
    return NULL;
  }
  if (len == 0 || len >= sizeof addr.sun_path) {
    napi_throw(env, errno_error(env, len == 0 ? ENOENT : ENAMETOOLONG, "connect"));
    return NULL;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, len + 1);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    napi_throw(env, errno_error(env, errno, "socket"));
    return NULL;
  }
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    napi_throw(env, errno_error(env, e, "connect"));
    return NULL;
  }
  sp_t *s = calloc(1, sizeof *s);
  uv_loop_t *loop = NULL;
  if (s == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    free(s);
    close(fd);
    napi_throw(env, errno_error(env, ENOMEM, "connect"));
    return NULL;
  }
  s->fd = fd;
  s->env = env;
  s->reading = 1;
  s->poll.data = s;
  napi_create_reference(env, argv[1], 1, &s->on_event);
  napi_create_string_utf8(env, "berth:seqpacket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->ctx);
  update_poll(s);
  napi_create_external(env, s, finalize, NULL, &handle);
  return handle;
}

/* send(handle, bytes) -> bytes sent, or -errno */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2], v;
  void *data = NULL;
  size_t len = 0;
  bool ok = false;
  sp_t *s = handle_arg(env, info, argv, 2);
  if (s == NULL) return NULL;
  if (napi_is_buffer(env, argv[1], &ok) != napi_ok || !ok || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "send: bytes must be a Buffer");
    return NULL;
  }
  ssize_t n;
  do n = send(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  napi_create_int64(env, n < 0 ? -(int64_t)errno : (int64_t)n, &v);
  return v;
}

/* wantWrite(handle): one EV_WRITABLE when the socket can take a packet */
static napi_value js_want_write(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sp_t *s = handle_arg(env, info, argv, 1);
  if (s == NULL) return NULL;
  s->want_write = 1;
  update_poll(s);
  return NULL;
}

/* shutdown(handle): no more packets from us; the peer reads EOF */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sp_t *s = handle_arg(env, info, argv, 1);
  if (s == NULL) return NULL;
  if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN) napi_throw(env, errno_error(env, errno, "shutdown"));
  return NULL;
}

/* close(handle): idempotent */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  sp_t *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "close(handle)");
    return NULL;
  }
  sp_release(env, s, 0);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "connect", NAPI_AUTO_LENGTH, js_connect, NULL, &fn);
  napi_set_named_property(env, exports, "connect", fn);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, js_send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "wantWrite", NAPI_AUTO_LENGTH, js_want_write, NULL, &fn);
  napi_set_named_property(env, exports, "wantWrite", fn);
  napi_create_function(env, "shutdown", NAPI_AUTO_LENGTH, js_shutdown, NULL, &fn);
  napi_set_named_property(env, exports, "shutdown", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, js_close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}
