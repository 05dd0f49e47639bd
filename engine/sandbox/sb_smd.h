/*
 * sb_smd.h - private to sb_schema.c, sb_fieldset.c, sb_ssa.c and sb_patch.c: schema nodes and
 * FieldsV1 sets (the sandbox's "structured merge diff", API-NOTES §4.3-4.7, §7.2).
 *
 * Everything here is a pure function over jansson values: no I/O, no locks. Schemas are
 * immutable once built and may be shared between threads.
 */
#ifndef PL_SANDBOX_SB_SMD_H
#define PL_SANDBOX_SB_SMD_H

#include "sb.h"

/* ---- schema nodes (sb_schema.c) ------------------------------------------------------------ */

typedef enum {
    SB_ST_ANY = 0, /* no type: deduced (or int-or-string / preserve-unknown) */
    SB_ST_OBJECT,
    SB_ST_ARRAY,
    SB_ST_STRING,
    SB_ST_INTEGER,
    SB_ST_NUMBER,
    SB_ST_BOOLEAN,
} sb_stype;

enum { SB_LIST_ATOMIC = 0, SB_LIST_SET, SB_LIST_MAP };

enum {
    SB_SN_PRESERVE = 1 << 0,  /* x-kubernetes-preserve-unknown-fields */
    SB_SN_INTORSTR = 1 << 1,  /* x-kubernetes-int-or-string */
    SB_SN_EMBEDDED = 1 << 2,  /* x-kubernetes-embedded-resource */
    SB_SN_ATOMIC = 1 << 3,    /* map/struct replaced wholesale (x-kubernetes-map-type: atomic) */
    SB_SN_NULLABLE = 1 << 4,
    SB_SN_LENIENT = 1 << 5,   /* built-in pseudo-schema: unknown keys are declared struct fields */
    SB_SN_DEDUCED = 1 << 6,   /* schemaless subtree: maps merge, every list atomic (§4.5) */
    SB_SN_SMP_MERGE = 1 << 7, /* strategic merge: primitive list merged as a set (finalizers) */
};

typedef struct sb_snode sb_snode;

typedef struct sb_sprop {
    char *name;
    sb_snode *node;
} sb_sprop;

struct sb_snode {
    sb_stype type;
    unsigned flags;
    sb_sprop *props; /* sorted by name */
    size_t nprops;
    sb_snode *additional; /* additionalProperties: a granular map with these values */
    sb_snode *items;
    int list_type;        /* SB_LIST_* */
    char **keys;          /* list-map keys (sorted by name as SMD sorts key fields) */
    size_t nkeys;
    char *smp_key;        /* strategic merge patchMergeKey (NULL: keys[0]) */
    json_t *dflt;         /* default (owned) */
    json_t *enum_vals;    /* enum (owned JSON array) */
    char **required;
    size_t nrequired;
    char *pattern;
    int has_min, has_max, excl_min, excl_max;
    double min, max;
    long long min_len, max_len, min_items, max_items; /* -1 = unset */
    sb_snode *arena_next; /* every node of a schema, for freeing */
};

struct sb_schema {
    sb_snode *root;
    sb_snode *arena; /* list of every node */
    int builtin;
};

/* Shared immutable nodes: schemaless ("deduced") and built-in lenient subtrees. */
extern const sb_snode sb_snode_deduced;
extern const sb_snode sb_snode_lenient;

/*
 * Schema of the child `key` of object node `n` (NULL n = deduced). *declared is 1 for a
 * declared (struct) field, 0 for a map entry. Returns NULL when the key is not allowed there
 * (CR schema, undeclared, not preserved).
 */
const sb_snode *sb_snode_child(const sb_snode *n, const char *key, int *declared);
/** Items schema of a list node (never NULL). */
const sb_snode *sb_snode_items(const sb_snode *n);
/** List type for an array value under node n (deduced/lenient: atomic). */
int sb_snode_list_type(const sb_snode *n);
/** 1 if an object value under n is replaced wholesale. */
int sb_snode_map_atomic(const sb_snode *n);

/* ---- path elements and FieldsV1 sets (sb_fieldset.c) ------------------------------------ */

typedef enum { SB_PE_FIELD = 0, SB_PE_KEY = 1, SB_PE_VALUE = 2, SB_PE_INDEX = 3 } sb_pe_kind;

/* A path element; `text` is the part after "f:"/"k:"/"v:"/"i:" (compact JSON for k:/v:). */
typedef struct sb_pe {
    sb_pe_kind kind;
    const char *text;
    const json_t *val; /* k:/v: the value (may be NULL: parsed from text when needed) */
    long index;
} sb_pe;

typedef struct sb_fs sb_fs;
typedef struct sb_fs_child sb_fs_child;

struct sb_fs {
    sb_fs_child *c; /* sorted children */
    size_t n, cap;
    int member; /* this path itself is in the set */
};

/*
 * One child: the path element and its subtree, embedded (pointers to a child's node stay valid
 * only until a sibling is inserted into the same parent). Field names up to 23 bytes are stored
 * inline; k:/v: elements keep only their value (the text is produced when serialising).
 */
struct sb_fs_child {
    sb_pe_kind kind;
    char *heap;   /* FIELD: name when longer than inl (owned), else NULL */
    char inl[24]; /* FIELD: short name */
    json_t *val;  /* KEY/VALUE: the value (owned reference) */
    long index;   /* INDEX */
    sb_fs node;
};

/** The field name of a FIELD child (borrowed). */
static inline const char *sb_fs_child_name(const sb_fs_child *c)
{
    return c->heap ? c->heap : c->inl;
}

sb_fs *sb_fs_new(void);
void sb_fs_free(sb_fs *s);
sb_fs *sb_fs_dup(const sb_fs *s);
int sb_fs_empty(const sb_fs *s);
/** Compare path elements in SMD order (f: < k: < v: < i:, then by value). */
int sb_pe_cmp(const sb_pe *a, const sb_pe *b);
/** Child node for pe, or NULL. */
sb_fs *sb_fs_get(const sb_fs *s, const sb_pe *pe);
/** Child node for pe, created (not a member) when absent. NULL only on OOM. */
sb_fs *sb_fs_ensure(sb_fs *s, const sb_pe *pe);
/** Insert a path (array of n elements) as a member. n == 0 is ignored (root). */
int sb_fs_insert(sb_fs *s, const sb_pe *path, size_t n);
/** a |= b */
int sb_fs_union_into(sb_fs *a, const sb_fs *b);
/** a -= b (exact members; SMD Difference). Empty subtrees are dropped. */
void sb_fs_diff_into(sb_fs *a, const sb_fs *b);
/** a -= every path under a member of b (SMD RecursiveDifference). */
void sb_fs_rdiff_into(sb_fs *a, const sb_fs *b);
/** New set: members in both. */
sb_fs *sb_fs_intersect(const sb_fs *a, const sb_fs *b);
/** Drop empty non-member subtrees. */
void sb_fs_compact(sb_fs *s);
/** Parse a FieldsV1 object (borrowed). PL_EINVALID when malformed. */
int sb_fs_from_json(sb_fs **out, const json_t *fields_v1);
/** Serialise as FieldsV1 (owned). */
json_t *sb_fs_to_json(const sb_fs *s);
/** Number of member paths. */
size_t sb_fs_count(const sb_fs *s);

typedef int (*sb_fs_visit_fn)(const sb_pe *path, size_t n, void *payload);
/** Visit every member path in set order (the order conflicts are reported in). */
int sb_fs_each(const sb_fs *s, sb_fs_visit_fn fn, void *payload);
/** Append the dotted rendering of a path (`.spec.ports[port=80,protocol="TCP"].name`). */
int sb_path_render(pl_buf *out, const sb_pe *path, size_t n);
/** Append a value as SMD prints it in paths (compact JSON). */
int sb_value_render(pl_buf *out, const json_t *v);
/** SMD value ordering (numbers < strings < bools < lists < maps < null). */
int sb_value_cmp(const json_t *a, const json_t *b);

/* ---- helpers shared with sb_patch.c (sb_ssa.c) --------------------------------------------- */

/*
 * The key path element text of a list-map item (compact JSON of the key fields, sorted by name,
 * missing keys filled from the item schema's default). Returns PL_EINVALID when a key is missing
 * without a default or the item is not an object. *out owned (json object).
 */
int sb_list_item_key(json_t **out, const sb_snode *list, const json_t *item);

#endif
