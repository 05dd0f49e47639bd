/*
 * sb_patch.c - PATCH bodies other than apply (API-NOTES §5.3): RFC 7386 merge patch, RFC 6902
 * JSON patch and Kubernetes strategic merge patch for built-ins.
 *
 * Error bodies follow kubernetes/apiserver endpoints/handlers/patch.go (jsonPatcher.applyJSPatch,
 * interpretStrategicMergePatchError): an undecodable JSON patch is 400 BadRequest with the
 * decoder's text; more than 10000 operations is 413 "Request entity too large: The allowed
 * maximum operations in a JSON patch is 10000, got N"; an operation that fails to apply is a
 * generic 422 (reason Invalid, message "the server rejected our request due to an error in our
 * request", empty details: the failure text itself is not returned). Strategic patch format
 * errors are 400 BadRequest with the mergepatch error text.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_smd.h"

#define MAX_JSON_PATCH_OPS 10000

static int bad_request(json_t **err_status, const char *msg)
{
    *err_status = sb_status_new(400, "BadRequest", msg, NULL);
    return pl_error_set(PL_EINVALID, "patch: %s", msg);
}

/* NewGenericServerResponse(422, ...) as patch.go uses it for a failing JSON patch */
static int generic_422(json_t **err_status, const char *why)
{
    json_t *details = json_object();
    *err_status = sb_status_new(422, "Invalid",
                                "the server rejected our request due to an error in our request",
                                details);
    json_decref(details);
    return pl_error_set(PL_EINVALID, "json patch: %s", why);
}

/* ---- RFC 7386 ------------------------------------------------------------------------------- */

static json_t *merge_patch(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *k;
    json_t *v;
    if (!out)
        return NULL;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(out, k);
            continue;
        }
        json_t *m = merge_patch(json_object_get(out, k), v);
        if (!m || json_object_set_new(out, k, m) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

int sb_patch_merge(json_t **out, json_t **err_status, const json_t *live, const json_t *patch)
{
    *out = NULL;
    *err_status = NULL;
    if (!json_is_object(patch))
        return bad_request(err_status, "Invalid JSON Patch");
    *out = merge_patch(live, patch);
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

/* ---- RFC 6902 ------------------------------------------------------------------------------- */

/* Decode one JSON pointer token (~1 -> '/', ~0 -> '~'). Returns an owned string. */
static char *ptr_token(const char *s, size_t len)
{
    char *t = pl_malloc(len + 1);
    size_t j = 0;
    if (!t)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
            t[j++] = s[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            t[j++] = s[i];
        }
    }
    t[j] = '\0';
    return t;
}

static int parse_index(const char *tok, size_t max, size_t *out)
{
    char *end = NULL;
    if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] == '-' || tok[0] == '+')
        return -1;
    long v = strtol(tok, &end, 10);
    if (*end || v < 0 || (size_t)v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

/*
 * Resolve the parent container of `path` in doc. *last is the owned final token.
 * Returns the parent (borrowed) or NULL when the path does not exist. Path "" has no parent.
 */
static json_t *resolve_parent(json_t *doc, const char *path, char **last)
{
    *last = NULL;
    if (path[0] != '/')
        return NULL;
    json_t *cur = doc;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *tok = ptr_token(p, len);
        if (!tok)
            return NULL;
        if (!slash) {
            *last = tok;
            return cur;
        }
        json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            size_t i;
            if (parse_index(tok, json_array_size(cur) - 1, &i) == 0 && json_array_size(cur))
                next = json_array_get(cur, i);
        }
        pl_free(tok);
        if (!next)
            return NULL;
        cur = next;
        p = slash + 1;
    }
}

static json_t *ptr_get(json_t *doc, const char *path)
{
    if (path[0] == '\0')
        return doc;
    char *last;
    json_t *parent = resolve_parent(doc, path, &last);
    json_t *v = NULL;
    if (parent && last) {
        if (json_is_object(parent))
            v = json_object_get(parent, last);
        else if (json_is_array(parent)) {
            size_t i;
            if (json_array_size(parent) && parse_index(last, json_array_size(parent) - 1, &i) == 0)
                v = json_array_get(parent, i);
        }
    }
    pl_free(last);
    return v;
}

/* add: `val` is stolen. *doc may be replaced (path ""). */
static int op_add(json_t **doc, const char *path, json_t *val)
{
    if (path[0] == '\0') {
        json_decref(*doc);
        *doc = val;
        return 0;
    }
    char *last;
    json_t *parent = resolve_parent(*doc, path, &last);
    int rc = -1;
    if (parent && last) {
        if (json_is_object(parent)) {
            rc = json_object_set_new(parent, last, val);
            val = NULL;
        } else if (json_is_array(parent)) {
            size_t i;
            if (strcmp(last, "-") == 0) {
                rc = json_array_append_new(parent, val);
                val = NULL;
            } else if (parse_index(last, json_array_size(parent), &i) == 0) {
                rc = json_array_insert_new(parent, i, val);
                val = NULL;
            }
        }
    }
    json_decref(val);
    pl_free(last);
    return rc;
}

/* remove: *removed (owned) receives the value when non-NULL. */
static int op_remove(json_t *doc, const char *path, json_t **removed)
{
    char *last;
    json_t *parent = resolve_parent(doc, path, &last);
    int rc = -1;
    if (parent && last) {
        json_t *v = NULL;
        if (json_is_object(parent)) {
            v = json_object_get(parent, last);
            if (v) {
                if (removed)
                    *removed = json_incref(v);
                rc = json_object_del(parent, last);
            }
        } else if (json_is_array(parent)) {
            size_t i;
            if (json_array_size(parent) && parse_index(last, json_array_size(parent) - 1, &i) == 0) {
                if (removed)
                    *removed = json_incref(json_array_get(parent, i));
                rc = json_array_remove(parent, i);
            }
        }
    }
    pl_free(last);
    return rc;
}

int sb_patch_json(json_t **out, json_t **err_status, const json_t *live, const json_t *ops)
{
    *out = NULL;
    *err_status = NULL;
    if (!json_is_array(ops)) {
        const char *what = json_is_object(ops)   ? "object"
                           : json_is_string(ops) ? "string"
                           : json_is_number(ops) ? "number"
                           : json_is_boolean(ops) ? "bool"
                                                  : "value";
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch", what);
        int rc = bad_request(err_status, m.ptr ? m.ptr : "bad patch");
        pl_buf_dispose(&m);
        return rc;
    }
    if (json_array_size(ops) > MAX_JSON_PATCH_OPS) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "Request entity too large: The allowed maximum operations in a JSON patch "
                      "is %d, got %zu",
                      MAX_JSON_PATCH_OPS, json_array_size(ops));
        *err_status = sb_status_new(413, "RequestEntityTooLarge", m.ptr ? m.ptr : "", NULL);
        pl_buf_dispose(&m);
        return pl_error_set(PL_ETOOBIG, "json patch: too many operations");
    }
    json_t *doc = json_deep_copy(live);
    if (!doc)
        return pl_error_set(PL_ENOMEM, "out of memory");
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        const char *kind = json_string_value(json_object_get(op, "op"));
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *from = json_string_value(json_object_get(op, "from"));
        json_t *value = json_object_get(op, "value");
        int rc = -1;
        if (!kind) {
            json_decref(doc);
            return generic_422(err_status, "operation without op");
        }
        if (!path) {
            json_decref(doc);
            return generic_422(err_status, "operation without path");
        }
        if (strcmp(kind, "add") == 0) {
            if (value)
                rc = op_add(&doc, path, json_deep_copy(value));
        } else if (strcmp(kind, "remove") == 0) {
            rc = op_remove(doc, path, NULL);
        } else if (strcmp(kind, "replace") == 0) {
            if (value && path[0] == '\0') {
                json_decref(doc);
                doc = json_deep_copy(value);
                rc = 0;
            } else if (value && ptr_get(doc, path)) {
                json_t *old = NULL;
                rc = op_remove(doc, path, &old);
                if (rc == 0)
                    rc = op_add(&doc, path, json_deep_copy(value));
                json_decref(old);
            }
        } else if (strcmp(kind, "move") == 0) {
            json_t *v = NULL;
            if (from && op_remove(doc, from, &v) == 0)
                rc = op_add(&doc, path, v);
        } else if (strcmp(kind, "copy") == 0) {
            json_t *v = from ? ptr_get(doc, from) : NULL;
            if (v)
                rc = op_add(&doc, path, json_deep_copy(v));
        } else if (strcmp(kind, "test") == 0) {
            json_t *v = ptr_get(doc, path);
            if (v && value && json_equal(v, value))
                rc = 0;
        }
        if (rc != 0) {
            json_decref(doc);
            return generic_422(err_status, kind);
        }
    }
    *out = doc;
    return 0;
}

/* ---- strategic merge patch ------------------------------------------------------------------ */

static const char *smp_key_of(const sb_snode *n)
{
    if (!n || sb_snode_list_type(n) != SB_LIST_MAP)
        return NULL;
    return n->smp_key ? n->smp_key : (n->nkeys ? n->keys[0] : NULL);
}

static int smp_obj(json_t **res, const json_t *orig, const json_t *patch, const sb_snode *n,
                   json_t **err_status, int depth);

static int is_directive_key(const char *k) { return k[0] == '$'; }

/* Reorder `list` (owned, replaced) as `order` says; unmentioned items keep their place at the end. */
static json_t *apply_order(json_t *list, const json_t *order, const char *mkey)
{
    if (!json_is_array(list) || !json_is_array(order))
        return list;
    size_t n = json_array_size(list);
    char *used = pl_calloc(n + 1, 1);
    json_t *out = json_array();
    if (!used || !out) {
        pl_free(used);
        json_decref(out);
        return list;
    }
    size_t i;
    json_t *o;
    json_array_foreach(order, i, o) {
        const json_t *want = mkey ? json_object_get(o, mkey) : o;
        for (size_t j = 0; want && j < n; j++) {
            json_t *it = json_array_get(list, j);
            const json_t *have = mkey ? json_object_get(it, mkey) : it;
            if (!used[j] && have && json_equal((json_t *)have, (json_t *)want)) {
                used[j] = 1;
                json_array_append(out, it);
                break;
            }
        }
    }
    for (size_t j = 0; j < n; j++)
        if (!used[j])
            json_array_append(out, json_array_get(list, j));
    pl_free(used);
    json_decref(list);
    return out;
}

static int smp_list(json_t **res, const json_t *orig, const json_t *patch, const sb_snode *n,
                    json_t **err_status, int depth)
{
    const char *mkey = smp_key_of(n);
    *res = NULL;
    if (!mkey && !(n && (n->flags & SB_SN_SMP_MERGE))) {
        *res = json_deep_copy(patch); /* replace strategy */
        return 0;
    }
    /* a {"$patch":"replace"} item replaces the whole list with the other items */
    size_t i;
    json_t *it;
    json_array_foreach(patch, i, it) {
        const char *d = json_string_value(json_object_get(it, "$patch"));
        if (json_is_object(it) && d && strcmp(d, "replace") == 0) {
            json_t *out = json_array();
            size_t j;
            json_t *x;
            json_array_foreach(patch, j, x) if (j != i) json_array_append_new(out, json_deep_copy(x));
            *res = out;
            return 0;
        }
    }
    json_t *out = json_is_array(orig) ? json_deep_copy(orig) : json_array();
    if (!out)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!mkey) {
        /* primitive list with merge strategy: union, keeping order */
        json_array_foreach(patch, i, it) {
            int found = 0;
            size_t j;
            json_t *x;
            json_array_foreach(out, j, x) if (json_equal(x, it)) found = 1;
            if (!found)
                json_array_append_new(out, json_deep_copy(it));
        }
        *res = out;
        return 0;
    }
    const sb_snode *in = sb_snode_items(n);
    json_array_foreach(patch, i, it) {
        if (!json_is_object(it)) {
            json_decref(out);
            *err_status = sb_status_new(400, "BadRequest", "invalid JSON document", NULL);
            return pl_error_set(PL_EINVALID, "strategic merge patch: list item is not an object");
        }
        json_t *kv = json_object_get(it, mkey);
        const char *d = json_string_value(json_object_get(it, "$patch"));
        long at = -1;
        size_t j;
        json_t *x;
        if (kv) {
            json_array_foreach(out, j, x) if (at < 0 && json_equal(json_object_get(x, mkey), kv)) at =
                (long)j;
        }
        if (d && strcmp(d, "delete") == 0) {
            if (at >= 0)
                json_array_remove(out, (size_t)at);
            continue;
        }
        if (at >= 0) {
            json_t *m;
            int rc = smp_obj(&m, json_array_get(out, (size_t)at), it, in, err_status, depth + 1);
            if (rc < 0) {
                json_decref(out);
                return rc;
            }
            if (m)
                json_array_set_new(out, (size_t)at, m);
            else
                json_array_remove(out, (size_t)at);
        } else {
            json_t *m;
            int rc = smp_obj(&m, NULL, it, in, err_status, depth + 1);
            if (rc < 0) {
                json_decref(out);
                return rc;
            }
            if (m)
                json_array_append_new(out, m);
        }
    }
    *res = out;
    return 0;
}

/* Strategic merge of two objects. *res NULL means "delete this object" ($patch: delete). */
static int smp_obj(json_t **res, const json_t *orig, const json_t *patch, const sb_snode *n,
                   json_t **err_status, int depth)
{
    *res = NULL;
    if (depth > 200)
        return bad_request(err_status, "invalid JSON document");
    const char *d = json_string_value(json_object_get(patch, "$patch"));
    if (d && strcmp(d, "delete") == 0)
        return 0;
    json_t *out;
    if (d && strcmp(d, "replace") == 0) {
        out = json_deep_copy(patch);
        json_object_del(out, "$patch");
        *res = out;
        return 0;
    }
    if (d && strcmp(d, "merge") != 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "Unknown patch type: %s in map: %s", d, "...");
        int rc = bad_request(err_status, m.ptr ? m.ptr : "bad patch");
        pl_buf_dispose(&m);
        return rc;
    }
    out = json_is_object(orig) ? json_deep_copy(orig) : json_object();
    if (!out)
        return pl_error_set(PL_ENOMEM, "out of memory");
    const char *k;
    json_t *pv;
    /* $deleteFromPrimitiveList/<field>: remove values from a primitive list */
    json_object_foreach((json_t *)patch, k, pv) {
        static const char dfpl[] = "$deleteFromPrimitiveList/";
        if (strncmp(k, dfpl, sizeof(dfpl) - 1) != 0)
            continue;
        if (!json_is_array(pv)) {
            json_decref(out);
            return bad_request(err_status,
                               "invalid patch format for primitive list: expected a list");
        }
        json_t *lst = json_object_get(out, k + sizeof(dfpl) - 1);
        if (!json_is_array(lst))
            continue;
        for (size_t i = json_array_size(lst); i-- > 0;) {
            size_t j;
            json_t *x;
            json_array_foreach(pv, j, x) if (json_equal(x, json_array_get(lst, i))) {
                json_array_remove(lst, i);
                break;
            }
        }
    }
    json_object_foreach((json_t *)patch, k, pv) {
        if (is_directive_key(k))
            continue;
        int declared;
        const sb_snode *cn = sb_snode_child(n, k, &declared);
        if (!cn)
            cn = &sb_snode_lenient;
        json_t *ov = json_object_get(out, k);
        if (json_is_null(pv)) {
            json_object_del(out, k);
        } else if (json_is_object(pv)) {
            json_t *m;
            int rc = smp_obj(&m, json_is_object(ov) ? ov : NULL, pv, cn, err_status, depth + 1);
            if (rc < 0) {
                json_decref(out);
                return rc;
            }
            if (m)
                json_object_set_new(out, k, m);
            else
                json_object_del(out, k);
        } else if (json_is_array(pv)) {
            json_t *m;
            int rc = smp_list(&m, ov, pv, cn, err_status, depth + 1);
            if (rc < 0) {
                json_decref(out);
                return rc;
            }
            json_object_set_new(out, k, m);
        } else {
            json_object_set_new(out, k, json_deep_copy(pv));
        }
    }
    /* $setElementOrder/<field> */
    json_object_foreach((json_t *)patch, k, pv) {
        static const char seo[] = "$setElementOrder/";
        if (strncmp(k, seo, sizeof(seo) - 1) != 0)
            continue;
        const char *field = k + sizeof(seo) - 1;
        json_t *lst = json_object_get(out, field);
        if (!lst)
            continue;
        if (!json_is_array(pv)) {
            json_decref(out);
            return bad_request(err_status, "invalid patch format for set element order list");
        }
        int declared;
        const sb_snode *cn = sb_snode_child(n, field, &declared);
        json_t *re = apply_order(json_incref(lst), pv, smp_key_of(cn));
        json_object_set_new(out, field, re);
    }
    /* $retainKeys: clear every field not listed */
    json_t *rk = json_object_get(patch, "$retainKeys");
    if (rk) {
        if (!json_is_array(rk)) {
            json_decref(out);
            return bad_request(err_status, "invalid patch format for retainKeys");
        }
        void *tmp;
        json_t *v;
        json_object_foreach_safe(out, tmp, k, v) {
            int keep = 0;
            size_t i;
            json_t *x;
            json_array_foreach(rk, i, x) if (json_is_string(x) && strcmp(json_string_value(x), k) == 0)
                keep = 1;
            if (!keep)
                json_object_del(out, k);
        }
    }
    *res = out;
    return 0;
}

int sb_patch_strategic(json_t **out, json_t **err_status, const sb_schema *schema,
                       const json_t *live, const json_t *patch)
{
    *out = NULL;
    *err_status = NULL;
    if (!json_is_object(patch))
        return bad_request(err_status, "invalid JSON document");
    json_t *res = NULL;
    int rc = smp_obj(&res, live, patch, schema && schema->root ? schema->root : &sb_snode_lenient,
                     err_status, 0);
    if (rc < 0)
        return rc;
    *out = res ? res : json_object();
    return 0;
}
