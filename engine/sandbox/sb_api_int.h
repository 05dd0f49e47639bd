/*
 * sb_api_int.h - private interface between the API-semantics files of the sandbox
 * (sb_api.c, sb_store.c, sb_watch.c, sb_ns.c, sb_crd.c, sb_gc.c, sb_defaults.c,
 * sb_validate.c, sb_select.c, sb_sim.c). Not used by the transport or SSA layers, which go
 * through sb.h.
 *
 * Locking: one store mutex (sb_store.lock) guards every collection, entry, event and the
 * resourceVersion counter. Request handlers hold it for the whole of a write (so a write is
 * atomic with respect to other requests and the background thread), and only briefly for
 * reads (the stored text is copied out). Stored json_t objects are immutable once stored:
 * a write builds a new object and swaps it in.
 */
#ifndef PL_SANDBOX_SB_API_INT_H
#define PL_SANDBOX_SB_API_INT_H

#include <stdatomic.h>

#include "sb.h"

typedef struct sb_store sb_store;

/* A refcounted immutable serialisation of a stored object (refs changed under the lock). */
typedef struct sb_text {
    int refs;
    size_t len;
    size_t tm_len; /* bytes after '{' holding `"kind":..,"apiVersion":..,`; 0 if not found */
    char s[];      /* NUL-terminated compact JSON */
} sb_text;

typedef struct sb_entry {
    char *ns;   /* "" for cluster-scoped objects */
    char *name;
    json_t *obj;     /* owned; immutable once stored */
    sb_text *text;   /* owned reference, NULL until first needed (sb_entry_text) */
    uint64_t rv;
    int64_t mtime_ms; /* monotonic ms of the last persisted write */
} sb_entry;

typedef struct sb_coll {
    char *group;
    char *resource;
    char *kind;      /* for list kinds of stored objects */
    int namespaced;
    sb_entry **items; /* sorted by (ns, name) */
    size_t n, cap;
} sb_coll;

enum { SB_EV_ADDED = 1, SB_EV_MODIFIED, SB_EV_DELETED };

typedef struct sb_event {
    int type;
    sb_coll *coll;   /* borrowed: collections live until the store closes */
    char *ns, *name; /* owned */
    json_t *obj;     /* owned reference: the object after the event */
    json_t *prev;    /* owned reference: the object before (MODIFIED), else NULL */
    sb_text *text;   /* owned reference, NULL until first needed (sb_event_text) */
    uint64_t rv;
} sb_event;

/* an object reference dropped without the lock, released by the next lock holder */
typedef struct sb_drop {
    struct sb_drop *next;
    json_t *obj;
} sb_drop;

struct sb_store {
    pthread_mutex_t lock;
    sb_drop *_Atomic drops; /* lock-free stack of sb_store_release'd references */
    pthread_cond_t changed; /* broadcast on every event (watchers) */
    pthread_cond_t kick;    /* wakes the background thread */
    uint64_t rv;
    sb_coll **colls;
    size_t ncolls, ccap;
    /* watch history ring */
    sb_event *ring;
    size_t ring_cap, ring_start, ring_n;
    uint64_t ring_floor; /* every event with rv > ring_floor is in the ring */
    /* persistence (--state) */
    char *dir;
    int journal_fd;
    size_t journal_bytes;
    /* background */
    pthread_t bg;
    int bg_running, bg_stop, bg_dirty;
    int closing;
    /* uids of deleted owners whose dependents the garbage collector must visit */
    char **gc_uids;
    size_t gc_n, gc_cap;
};

/* ---- time, ids ---------------------------------------------------------------------------- */

int64_t sb_mono_ms(void);
/** RFC 3339 UTC whole seconds into out (at least 32 bytes). */
void sb_now_rfc3339(char *out, size_t outlen);
/** uuid v4, lower case, 36 characters + NUL. */
void sb_uuid4(char out[37]);
/** n random characters of the generateName alphabet (API-NOTES §3.1). */
void sb_random_suffix(char *out, size_t n);

/* ---- store (sb_store.c); caller holds st->lock unless stated ------------------------------ */

sb_text *sb_text_new(const json_t *obj);
/*
 * Drop a reference to a stored object (or part of one) without holding the lock. jansson's
 * counts are atomic, but json_decref also reads the count plainly first, so every change of
 * a shared object's count stays under the lock: this takes the lock when it is free and
 * otherwise leaves the reference to the next holder (sb_store_drain_released). Takes obj.
 */
void sb_store_release(sb_store *st, json_t *obj);
/** Release what sb_store_release left behind; caller holds the lock. */
void sb_store_drain_released(sb_store *st);
/*
 * The text of a stored object or of a watch event, serialised on first use: most writes are
 * never read back, and the writer answers from its own reference after the lock is released
 * (sb_api.c), so no text is built under the lock unless a reader needs it. Borrowed; NULL
 * only when out of memory.
 */
const sb_text *sb_entry_text(sb_entry *e);
const sb_text *sb_event_text(sb_event *ev);

void sb_text_unref(sb_text *t);
/*
 * Append an object's text: with_typemeta 0 drops kind/apiVersion (built-in list items);
 * gv non-NULL rewrites apiVersion (another served version of a CRD; `kind` is then used).
 */
int sb_text_append(pl_buf *out, const sb_text *t, const char *kind, const char *gv,
                   int with_typemeta);
/** Object with keys in the order a real server emits them (new reference). */
json_t *sb_obj_ordered(const json_t *obj);

sb_coll *sb_store_coll(sb_store *st, const char *group, const char *resource, const char *kind,
                       int namespaced);
/** Existing collection or NULL (no creation). */
sb_coll *sb_store_find_coll(sb_store *st, const char *group, const char *resource);
sb_entry *sb_store_get(sb_coll *c, const char *ns, const char *name);
/** Index of the first entry >= (ns, name). */
size_t sb_store_lower_bound(sb_coll *c, const char *ns, const char *name);

/*
 * Persist obj (taken) as the new state of (c, ns, name): a new resourceVersion is assigned and
 * written into metadata.resourceVersion, an ADDED or MODIFIED event is recorded, the journal
 * is appended. *out_entry (optional) is the stored entry (borrowed).
 */
int sb_store_put(sb_store *st, sb_coll *c, json_t *obj, sb_entry **out_entry);
/*
 * Remove entry e: `last` (taken; NULL = e's object) is the final state, which gets the
 * deletion's resourceVersion and goes into the DELETED event. *out_last (optional) receives
 * a new reference to it.
 */
int sb_store_remove(sb_store *st, sb_coll *c, sb_entry *e, json_t *last, json_t **out_last);

/** Wake watchers and the background thread. */
void sb_store_kick(sb_store *st);

/* ---- selectors (sb_select.c) ------------------------------------------------------------- */

typedef struct sb_selector sb_selector;
/** Parse a label selector; NULL text = everything. On error *err (owned) is the message. */
int sb_labelsel_parse(sb_selector **out, const char *text, char **err);
/** Parse a field selector for a type (custom: CR message variant). */
int sb_fieldsel_parse(sb_selector **out, const char *text, const char *resource, int custom,
                      char **err);
int sb_selector_match(const sb_selector *s, const json_t *obj);
void sb_selector_free(sb_selector *s);
/** The metadata.name=... value of a field selector (borrowed) or NULL. */
const char *sb_fieldsel_name(const sb_selector *s);

/* ---- deletion and garbage collection (sb_gc.c) -------------------------------------------- */

typedef struct sb_del_opts {
    const char *policy;   /* NULL = type default */
    int dry_run;
    const char *pre_uid;  /* preconditions, NULL when absent */
    const char *pre_rv;
} sb_del_opts;

/*
 * Delete entry e of collection c (API-NOTES §5.4). *out_obj (owned) is the object after the
 * call (with deletionTimestamp when it stays, the last state when it is gone); *gone is 1
 * when it was removed. Namespaces go Terminating (§8). Returns 0 or PL_ECONFLICT (precondition;
 * *err_status set).
 */
int sb_delete_entry(sb_server *srv, sb_coll *c, sb_entry *e, const sb_del_opts *o,
                    json_t **out_obj, int *gone, json_t **err_status);
/**
 * Store obj (taken) as a new state of an existing entry; when it carries deletionTimestamp and
 * no finalizers the object is removed instead (*gone = 1). *out (optional, new reference) is
 * the stored (or last) object.
 */
int sb_update_or_finish(sb_server *srv, sb_coll *c, json_t *obj, json_t **out, int *gone);
/** Background work: finalizers orphan/foregroundDeletion, dependents of deleted owners. */
void sb_gc_tick(sb_server *srv);
void sb_gc_note_deleted(sb_store *st, const char *uid);

/* ---- namespaces (sb_ns.c) ---------------------------------------------------------------- */

/** 0 active, 1 missing, 2 terminating. */
int sb_ns_state(sb_store *st, const char *ns);
void sb_ns_tick(sb_server *srv);
/** Create the namespace if missing (control endpoint, start-up). */
int sb_ns_ensure(sb_server *srv, const char *ns);

/* ---- CRDs (sb_crd.c) ----------------------------------------------------------------------- */

/** Defaults and create-time status of a CRD (API-NOTES §7.1). */
void sb_crd_defaults(json_t *crd, int creating);
/** Validation causes (appended to `causes`). */
void sb_crd_validate(const json_t *crd, json_t *causes);
/** Establish CRDs whose delay passed; finish CRD deletions. */
void sb_crd_tick(sb_server *srv);
/** Establish one CRD now (control endpoint, --state load); obj is the stored CRD. */
int sb_crd_establish_now(sb_server *srv, sb_coll *c, sb_entry *e);
/** After a write of an Established CRD: re-register its types. */
void sb_crd_after_write(sb_server *srv, const json_t *crd);
/** 1 if the CRD serving group/resource is terminating. */
int sb_crd_terminating(sb_store *st, const char *group, const char *resource);

/* ---- defaulting and validation (sb_defaults.c, sb_validate.c) ---------------------------- */

/** Defaults of built-in kinds (API-NOTES §9); `old` (NULL on create) supplies allocated values. */
void sb_defaults_apply(const sb_type *t, json_t *obj, const json_t *old);
/** Append causes {"reason","message","field"} for invalid names, labels, type rules. */
void sb_validate_object(const sb_type *t, const json_t *obj, const json_t *old, json_t *causes);
/** The 422 body: `<Kind>[.<group>] "<name>" is invalid: ...` (API-NOTES §6.2). Owned. */
json_t *sb_invalid_status(const char *kind, const char *group, const char *name,
                          const json_t *causes);
/** One cause object (owned). `value` is the bad value (NULL: none printed). */
json_t *sb_cause(const char *type, const char *field, const json_t *value, const char *detail);

/* ---- watch (sb_watch.c) ------------------------------------------------------------------ */

/*
 * Start a watch on coll (selectors taken; the caller holds the store lock). rv NULL/""/"0":
 * initial ADDED events for the current objects, then changes; otherwise the changes after rv
 * (API-NOTES §10.2). Fills resp with status 200 and a stream.
 */
int sb_watch_open(sb_server *srv, sb_response *resp, sb_coll *coll, const sb_type *t,
                  const char *ns, sb_selector *ls, sb_selector *fs, const char *rv,
                  int timeout_s, const char *gv);

/* ---- status simulation (sb_sim.c) -------------------------------------------------------- */

void sb_sim_tick(sb_server *srv);
/* --simulate-status with DELAY 0: play the controllers for `e` (in `c`) right after a write
 * stored it, before the lock is released, so that the next request already sees the status
 * (the status write is a write of its own: new RV, MODIFIED event). No-op otherwise. */
void sb_sim_written(sb_server *srv, sb_coll *c, sb_entry *e);

/* ---- background thread (sb_store.c) ------------------------------------------------------ */

int sb_bg_start(sb_server *srv);
void sb_bg_stop(sb_server *srv);

#endif
