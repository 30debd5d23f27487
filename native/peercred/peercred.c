/*
 * native/peercred: the one thing Node cannot do for the daemon's audit log —
 * read SO_PEERCRED (pid, uid, gid of the process that connect()ed) from an
 * accepted unix socket. One function, peerCred(fd); it only reads the option
 * and never touches, closes or blocks on the fd. Built by node-gyp in
 * scripts/setup.sh (docs/decisions.md: the SO_PEERCRED decision).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peerCred(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, cred.pid, &v);
  napi_set_named_property(env, obj, "pid", v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_named_property(env, obj, "uid", v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_named_property(env, obj, "gid", v);
  return obj;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCred", NAPI_AUTO_LENGTH, peer_cred, NULL, &fn);
  napi_set_named_property(env, exports, "peerCred", fn);
  return exports;
}
