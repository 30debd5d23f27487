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
 *
 * Compression, for pushes that gzip a plain layer as they send it (decisions B97):
 * createDeflater() -> handle: a gzip stream encoder at ISA-L's level 1; freed when collected.
 * deflate(handle, input, output, result, last, callback): encodes on libuv's thread pool (it is
 *   a layer's worth of byte work, which never runs on the daemon's event loop) and calls back
 *   with ISA-L's code (0, or negative); result gets [input consumed, output produced, 1 once the
 *   stream is finished (only after `last`)]. The caller keeps one call in flight per handle and
 *   leaves the buffers alone until the callback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <isa-l/igzip_lib.h>
#include <node_api.h>

/* Handles are tagged, so an inflater is never taken for a deflater or the other way round. */
static const napi_type_tag INFLATER_TAG = {0x6265727468697361ULL, 0x6c696e666c617465ULL};
static const napi_type_tag DEFLATER_TAG = {0x6265727468697361ULL, 0x6c6465666c617465ULL};

/* The state behind a handle made by this addon with `tag`, or NULL. */
static void *tagged_handle(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

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
  napi_type_tag_object(env, out, &INFLATER_TAG);
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

/* The arguments inflate and deflate share: handle, input, output, result (an Int32Array of 3). */
struct stream_args {
  void *handle;
  uint8_t *in, *out;
  size_t in_len, out_len;
  int32_t *res;
};

static int get_stream_args(napi_env env, napi_value *argv, const napi_type_tag *tag, struct stream_args *a) {
  napi_typedarray_type res_type;
  size_t res_len = 0;
  void *res = NULL;
  a->handle = tagged_handle(env, argv[0], tag);
  if (a->handle == NULL || !bytes_arg(env, argv[1], &a->in, &a->in_len) ||
      !bytes_arg(env, argv[2], &a->out, &a->out_len) || napi_get_typedarray_info(env, argv[3], &res_type, &res_len, &res, NULL, NULL) != napi_ok ||
      res_type != napi_int32_array || res_len < 3 || a->in_len > INT32_MAX || a->out_len > INT32_MAX) {
    return 0;
  }
  a->res = res;
  return 1;
}

static napi_value js_inflate(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], ret;
  struct stream_args a;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || !get_stream_args(env, argv, &INFLATER_TAG, &a)) {
    napi_throw_type_error(env, NULL, "inflate(handle, input, output, result): bad arguments");
    return NULL;
  }
  struct inflate_state *s = a.handle;
  uint8_t *in = a.in, *out = a.out;
  size_t in_len = a.in_len, out_len = a.out_len;
  int32_t *res = a.res;
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
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || (s = tagged_handle(env, argv[0], &INFLATER_TAG)) == NULL) {
    napi_throw_type_error(env, NULL, "reset(handle): bad arguments");
    return NULL;
  }
  init_state(s);
  return NULL;
}

struct deflater {
  struct isal_zstream z;
  uint8_t *level_buf;
  int busy;
};

static void free_deflater(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct deflater *d = data;
  free(d->level_buf);
  free(d);
}

static napi_value js_create_deflater(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  struct deflater *d = calloc(1, sizeof *d);
  uint8_t *lb = malloc(ISAL_DEF_LVL1_DEFAULT);
  if (d == NULL || lb == NULL) {
    free(d);
    free(lb);
    napi_throw_error(env, "ENOMEM", "createDeflater: out of memory");
    return NULL;
  }
  isal_deflate_init(&d->z);
  d->level_buf = lb;
  d->z.level = 1;
  d->z.level_buf = lb;
  d->z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
  d->z.gzip_flag = IGZIP_GZIP;
  if (napi_create_external(env, d, free_deflater, NULL, &out) != napi_ok) {
    free_deflater(env, d, NULL);
    napi_throw_error(env, NULL, "createDeflater: cannot create the handle");
    return NULL;
  }
  napi_type_tag_object(env, out, &DEFLATER_TAG);
  return out;
}

/* One deflate call in flight: what the pool thread works on and what it must keep alive. */
struct deflate_work {
  napi_async_work work;
  struct deflater *d;
  uint8_t *in, *out;
  size_t in_len, out_len;
  int32_t *res;
  int last;
  int code;
  napi_ref refs[5]; /* handle, input, output, result, callback */
};

static void deflate_execute(napi_env env, void *data) {
  (void)env;
  struct deflate_work *w = data;
  struct isal_zstream *z = &w->d->z;
  z->next_in = w->in;
  z->avail_in = (uint32_t)w->in_len;
  z->next_out = w->out;
  z->avail_out = (uint32_t)w->out_len;
  z->end_of_stream = w->last ? 1 : 0;
  z->flush = NO_FLUSH;
  w->code = isal_deflate(z);
  w->res[0] = (int32_t)(w->in_len - z->avail_in);
  w->res[1] = (int32_t)(w->out_len - z->avail_out);
  w->res[2] = z->internal_state.state == ZSTATE_END ? 1 : 0;
}

static void deflate_complete(napi_env env, napi_status status, void *data) {
  struct deflate_work *w = data;
  napi_value cb = NULL, undef, arg;
  w->d->busy = 0;
  napi_get_reference_value(env, w->refs[4], &cb);
  napi_get_undefined(env, &undef);
  napi_create_int32(env, status == napi_ok ? w->code : -1000, &arg);
  for (int i = 0; i < 5; i++) napi_delete_reference(env, w->refs[i]);
  napi_delete_async_work(env, w->work);
  free(w);
  if (cb != NULL) napi_call_function(env, undef, cb, 1, &arg, NULL);
}

static napi_value js_deflate(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], name;
  struct stream_args a;
  bool last = false;
  napi_valuetype cb_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || !get_stream_args(env, argv, &DEFLATER_TAG, &a) ||
      napi_get_value_bool(env, argv[4], &last) != napi_ok || napi_typeof(env, argv[5], &cb_type) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, NULL, "deflate(handle, input, output, result, last, callback): bad arguments");
    return NULL;
  }
  struct deflater *d = a.handle;
  if (d->busy) {
    napi_throw_error(env, NULL, "deflate: a call on this handle is still in flight");
    return NULL;
  }
  struct deflate_work *w = calloc(1, sizeof *w);
  if (w == NULL) {
    napi_throw_error(env, "ENOMEM", "deflate: out of memory");
    return NULL;
  }
  w->d = d;
  w->in = a.in;
  w->in_len = a.in_len;
  w->out = a.out;
  w->out_len = a.out_len;
  w->res = a.res;
  w->last = last ? 1 : 0;
  int indices[5] = {0, 1, 2, 3, 5};
  for (int i = 0; i < 5; i++) napi_create_reference(env, argv[indices[i]], 1, &w->refs[i]);
  napi_create_string_utf8(env, "berth:isal-deflate", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, deflate_execute, deflate_complete, w, &w->work) != napi_ok || napi_queue_async_work(env, w->work) != napi_ok) {
    for (int i = 0; i < 5; i++) napi_delete_reference(env, w->refs[i]);
    free(w);
    napi_throw_error(env, NULL, "deflate: cannot queue the work");
    return NULL;
  }
  d->busy = 1;
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
  napi_create_function(env, "createDeflater", NAPI_AUTO_LENGTH, js_create_deflater, NULL, &fn);
  napi_set_named_property(env, exports, "createDeflater", fn);
  napi_create_function(env, "deflate", NAPI_AUTO_LENGTH, js_deflate, NULL, &fn);
  napi_set_named_property(env, exports, "deflate", fn);
  return exports;
}
