/*
 * plumb/core.h - errors, allocation, buffers, logging, YAML<->JSON and object identity.
 *
 * engine/core is the bottom of the module graph: it knows jansson and libyaml, and nothing
 * about Git, HTTP or Kubernetes verbs. Every other module links it.
 *
 * Conventions (see README "Code tour"):
 *  - functions return 0 (PL_OK) or a negative pl_code; the detail is in pl_error_last();
 *  - `out` parameters come first and are owned by the caller unless documented "borrowed";
 *  - json_t arguments are borrowed; functions that consume a reference end in `_take`.
 */
#ifndef PLUMB_CORE_H
#define PLUMB_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PLUMB_VERSION "0.1.0"

/* ---- errors ---------------------------------------------------------------------------- */

typedef enum {
    PL_OK = 0,
    PL_ERROR = -1,      /* anything not listed */
    PL_ENOTFOUND = -3,  /* object/revision/path absent; HTTP 404 */
    PL_ECONFLICT = -4,  /* SSA field conflict, resourceVersion clash; 409 */
    PL_EINVALID = -5,   /* manifest or kustomization rejected; 422, parse error */
    PL_EIMMUTABLE = -6, /* immutable field changed: only replace helps */
    PL_EUNAVAIL = -7,   /* retryable: connect failure, 429, 5xx */
    PL_EAUTH = -8,      /* 401/403 */
    PL_ETIMEOUT = -9,
    PL_ETOOBIG = -10,
    PL_ENOMEM = -11,
} pl_code;

typedef struct pl_error {
    int code;
    char message[2048];
} pl_error;

/** The last error of this thread. Borrowed; valid until the next pl_error_set on the thread. */
const pl_error *pl_error_last(void);

/** Record an error (printf format) for this thread and return `code` (so `return pl_error_set(..)`). */
int pl_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Prefix the current message with "<prefix>: " unless it already starts with it.
 * Used to add the file being processed, never to re-word. Returns the current code.
 */
int pl_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Clear this thread's error record. */
void pl_error_clear(void);

/* ---- allocation ------------------------------------------------------------------------ */

/* All engine allocations go through these (tests can plug a failing allocator). */
void *pl_malloc(size_t n);
void *pl_calloc(size_t n, size_t size);
void *pl_realloc(void *p, size_t n);
char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);
void pl_free(void *p);

typedef struct pl_alloc_hooks {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
} pl_alloc_hooks;

/** Replace the allocator (NULL restores libc). Also registered with jansson. Not thread-safe. */
void pl_alloc_set_hooks(const pl_alloc_hooks *hooks);

/**
 * Pool sections (per thread, nestable): between enter and leave, small pl_malloc requests
 * of this thread (and jansson's) come from a pooled small-block allocator instead of libc.
 * For short-lived churn of small blocks (a render builds and discards hundreds of thousands
 * of JSON nodes). Pool blocks may outlive the section and are released by pl_free (or
 * json_decref) from any thread; they must never reach free(). Off with hooks installed,
 * under AddressSanitizer, and with PLUMB_ALLOC=system in the environment.
 */
void pl_alloc_pool_enter(void);
void pl_alloc_pool_leave(void);

/* ---- growable byte buffer with a maximum (curl dynbuf) --------------------------------- */

typedef struct pl_buf {
    char *ptr; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* 0 = unbounded */
} pl_buf;

#define PL_BUF_INIT {NULL, 0, 0, 0}

int pl_buf_put(pl_buf *b, const void *data, size_t len); /* PL_ETOOBIG over max, PL_ENOMEM */
/** Make room for `extra` more bytes (plus the NUL) without changing the contents. */
int pl_buf_grow(pl_buf *b, size_t extra);
int pl_buf_puts(pl_buf *b, const char *s);
int pl_buf_putc(pl_buf *b, char c);
int pl_buf_printf(pl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_buf_clear(pl_buf *b);
/** Release the memory; the struct can be reused. */
void pl_buf_dispose(pl_buf *b);
/** Hand the bytes to the caller (owned, free with pl_free); the buffer becomes empty. */
char *pl_buf_detach(pl_buf *b);

/* ---- logging ----------------------------------------------------------------------------- */

typedef enum { PL_LOG_ERROR, PL_LOG_WARN, PL_LOG_INFO, PL_LOG_DEBUG, PL_LOG_TRACE } pl_log_level;
typedef void (*pl_log_sink)(pl_log_level level, const char *comp, const char *msg, void *payload);

/** Install the process-wide sink (the host decides where logs go). NULL discards. */
void pl_log_set_sink(pl_log_sink sink, pl_log_level max_level, void *payload);
void pl_log(pl_log_level level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- YAML ------------------------------------------------------------------------------ */

typedef struct pl_yaml_opts {
    unsigned int version;
    size_t max_nodes; /* nodes added by alias expansion; 0 = default (1,000,000) */
    size_t max_bytes; /* input size; 0 = default (64 MiB) */
    int duplicate_keys_last_wins; /* kustomization files (go-yaml v2): a repeated key wins; */
                                  /* resources (go-yaml v3) reject repeated keys */
    int no_fast_path; /* parse with libyaml only (tests compare both paths) */
} pl_yaml_opts;
#define PL_YAML_OPTS_INIT {1, 0, 0, 0, 0}

/**
 * Parse a YAML (or JSON) stream into a JSON array of documents (owned by the caller).
 * Scalars are resolved as kustomize resolves them (go-yaml v3 decoding into interface{}):
 * `true/false` bools, `~`/`null`/empty nulls, Go-syntax ints (0755 is octal, 0x, 0o, 0b),
 * YAML floats; `yes`/`on` stay strings; quoted scalars are strings; mapping keys keep their
 * source text. Empty documents are dropped. Anchors and aliases are expanded within
 * `max_nodes`. Errors: PL_EINVALID "FILE:LINE:COL: what" (`name` is used for the FILE part).
 */
int pl_yaml_parse(json_t **out, const char *data, size_t len, const char *name,
                  const pl_yaml_opts *opts);

/**
 * Append one document to `out` exactly as kustomize prints it (sigs.k8s.io/yaml over go-yaml
 * v2: keys in go-yaml's natural order, strings quoted only when needed, literal blocks for
 * multi-line strings, compact sequences, width 80). `doc` is borrowed.
 */
int pl_yaml_emit(pl_buf *out, const json_t *doc);

/** Emit every element of `docs` (borrowed JSON array) separated by "---\n". */
int pl_yaml_emit_stream(pl_buf *out, const json_t *docs);

/** go-yaml v2 key order (letters before other runes, digit runs compared as numbers). */
int pl_yaml_key_cmp(const char *a, const char *b);

/** 1 if go-yaml v2 would resolve the plain scalar `s` to something other than a string. */
int pl_yaml_plain_is_nonstring(const char *s, size_t len);

/* ---- object identity --------------------------------------------------------------------- */

/** Identity of a resource; every string is borrowed from the object it was read from. */
typedef struct pl_objkey {
    const char *group;   /* "" for core */
    const char *version; /* "" when absent */
    const char *kind;
    const char *ns; /* "" when cluster-scoped or unset */
    const char *name;
} pl_objkey;

/** Fill `out` from a Kubernetes object (borrowed pointers into `obj`; "" for absent parts). */
void pl_objkey_from(pl_objkey *out, const json_t *obj);
/** Total order: group, version, kind, namespace, name. */
int pl_objkey_cmp(const pl_objkey *a, const pl_objkey *b);
/** "Kind/ns/name" ("Kind/name" without namespace; group appended as Kind.group). */
int pl_objkey_format(pl_buf *out, const pl_objkey *key);

/* ---- small JSON helpers ----------------------------------------------------------------- */

/**
 * Append v (borrowed) as compact JSON: byte for byte what json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY) writes (keys in insertion order), without jansson's reference-loop check,
 * so only for trees (json_write.c). 0, PL_ENOMEM/PL_ETOOBIG from the buffer, or PL_EINVALID
 * (nested deeper than 2048 levels).
 */
int pl_json_write(pl_buf *out, const json_t *v);
/** Append s (len bytes of UTF-8) as a JSON string literal with json_dumps' escapes. */
int pl_json_write_string(pl_buf *out, const char *s, size_t len);

/** Nested lookup: pl_json_path(obj, "metadata", "name", NULL). Borrowed; NULL when absent. */
json_t *pl_json_path(const json_t *obj, ...);
/** String at a nested path or NULL (borrowed). */
const char *pl_json_str(const json_t *obj, ...);
/** Get or create a nested object along the path (creates objects). Borrowed; NULL on type clash. */
json_t *pl_json_mkpath(json_t *obj, ...);

/* ---- hashing ------------------------------------------------------------------------------ */

/** Lower-case hex SHA-256 of data into out (65 bytes). */
void pl_sha256_hex(char out[65], const void *data, size_t len);

/**
 * Append the base64 encoding of `data` to `out`: the standard alphabet with padding, or with
 * `url` set the URL-safe alphabet without padding (RFC 4648 §5, as ApplySet ids use).
 */
int pl_base64_encode(pl_buf *out, const void *data, size_t len, int url);

#endif
