/*
 * native/isal: gzip decompression with Intel's ISA-L (Debian libisal2), for layer unpacks
 * (decisions B91). Its inflate takes about a third of the CPU time of zlib's for the same
 * layers, and decompression is the largest single piece of a pull's CPU after the file
 * system's own work. Synchronous by design: it runs on an unpack thread, which owns the
 * stream and its buffers (images/blobChunks), never on the daemon's event loop.
 *
 * createInflater() -> handle: a gzip stream decoder (header parsed, CRC32 and length in the
 *   trailer checked); freed when the handle is collected.
 * inflate(handle, input, output, result) -> code: decodes from `input` into `output`
 *   (Uint8Arrays); result (Int32Array of 3) gets the input bytes consumed, the output bytes
 *   produced, and 1 when the gzip member has ended (0 otherwise). The code is ISA-L's:
 *   0, or negative for invalid data (ISAL_INVALID_BLOCK ... ISAL_INCORRECT_CHECKSUM).
 * reset(handle): ready for the next gzip member of the same stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <isa-l/igzip_lib.h>
#include <node_api.h>

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void init_state(struct inflate_state *s) {
  isal_inflate_init(s);
  s->crc_flag = ISAL_GZIP;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  struct inflate_state *s = malloc(sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, "ENOMEM", "createInflater: out of memory");
    return NULL;
  }
  init_state(s);
  if (napi_create_external(env, s, free_state, NULL, &out) != napi_ok) {
    free(s);
    napi_throw_error(env, NULL, "createInflater: cannot create the handle");
    return NULL;
  }
  return out;
}

static int bytes_arg(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *p = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

static napi_value js_inflate(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], ret;
  struct inflate_state *s = NULL;
  uint8_t *in = NULL, *out = NULL;
  size_t in_len = 0, out_len = 0, res_len = 0;
  napi_typedarray_type res_type;
  void *res = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok ||
      s == NULL || !bytes_arg(env, argv[1], &in, &in_len) || !bytes_arg(env, argv[2], &out, &out_len) ||
      napi_get_typedarray_info(env, argv[3], &res_type, &res_len, &res, NULL, NULL) != napi_ok || res_type != napi_int32_array || res_len < 3 ||
      in_len > UINT32_MAX || out_len > UINT32_MAX) {
    napi_throw_type_error(env, NULL, "inflate(handle, input, output, result): bad arguments");
    return NULL;
  }
  s->next_in = in;
  s->avail_in = (uint32_t)in_len;
  s->next_out = out;
  s->avail_out = (uint32_t)out_len;
  int code = isal_inflate(s);
  int32_t *r = res;
  r[0] = (int32_t)(in_len - s->avail_in);
  r[1] = (int32_t)(out_len - s->avail_out);
  r[2] = s->block_state == ISAL_BLOCK_FINISH ? 1 : 0;
  napi_create_int32(env, code, &ret);
  return ret;
}

static napi_value js_reset(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct inflate_state *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "reset(handle): bad arguments");
    return NULL;
  }
  init_state(s);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "createInflater", NAPI_AUTO_LENGTH, js_create, NULL, &fn);
  napi_set_named_property(env, exports, "createInflater", fn);
  napi_create_function(env, "inflate", NAPI_AUTO_LENGTH, js_inflate, NULL, &fn);
  napi_set_named_property(env, exports, "inflate", fn);
  napi_create_function(env, "reset", NAPI_AUTO_LENGTH, js_reset, NULL, &fn);
  napi_set_named_property(env, exports, "reset", fn);
  return exports;
}
