/*
 * kz_jsonpatch.c - RFC 6902 JSON patch over jansson values, with the quirks of the library
 * kustomize applies patches with (evanphx/json-patch v4, reached through
 * api/filters/patchjson6902 and the PatchTransformer / PatchJson6902Transformer builtins).
 *
 * What is reproduced, because rendered output and failures depend on it:
 *  - pointers are split on '/' and the text before the first '/' is ignored; "" (the whole
 *    document) is never a valid target ("doc is missing path");
 *  - tokens are decoded ~1 -> '/', ~0 -> '~'; array indexes parse like Go's strconv.Atoi
 *    (sign allowed, leading zeros allowed) and negative indexes count from the end;
 *  - add: an existing object key is overwritten, "-" appends, an array index may equal the
 *    length (and add's negative indexes are relative to length + 1, so -1 appends);
 *  - replace on a missing object key adds it (v4 does not check object keys), while replace
 *    on a missing array index fails ("doc is missing key");
 *  - copy from a missing object key copies null; move from a missing key fails;
 *  - an op without `value` uses null; unknown ops fail with "Unexpected kind".
 * Error messages keep the library's wording (they name the operation and the path).
 *
 * Not done here: the JSON round trip kustomize makes around the patch (numbers through
 * float64) and the restoring of internal annotations; kz_patch.c does both.
 */
#include <limits.h>
#include <string.h>

#include "kz.h"

/* Go's strconv.Atoi on a 64-bit int: 0 ok, -1 syntax error, -2 out of range. */
static int go_atoi(const char *s, long long *out)
{
    const char *p = s;
    int neg = 0;
    unsigned long long v = 0;
    const unsigned long long lim = (unsigned long long)LLONG_MAX + 1ULL;

    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (lim - (unsigned long long)(*p - '0')) / 10)
            v = lim + 1; /* saturate; keep scanning for syntax errors first */
        else
            v = v * 10 + (unsigned long long)(*p - '0');
    }
    if (v > lim || (!neg && v == lim))
        return -2;
    *out = neg ? (v == lim ? LLONG_MIN : -(long long)v) : (long long)v;
    return 0;
}

/* Decode one reference token (~1 -> '/', ~0 -> '~' in one left-to-right pass). Owned. */
static char *decode_token(const char *s, size_t n)
{
    char *out = pl_malloc(n + 1);
    size_t j = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && i + 1 < n && (s[i + 1] == '1' || s[i + 1] == '0')) {
            out[j++] = s[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* The Atoi failure text Go's library wraps. */
static const char *atoi_error(int rc)
{
    return rc == -2 ? "value out of range" : "invalid syntax";
}

static int invalid_index(long long i)
{
    return pl_error_set(PL_EINVALID, "Unable to access invalid index: %lld: invalid index referenced",
                        i);
}

/*
 * Array element lookup as the library's partialArray.get does. Sets the error (without
 * context) and returns negative when the index is bad; *idx receives the resolved index.
 */
static int array_index(size_t *idx, const json_t *arr, const char *key)
{
    long long i;
    long long len = (long long)json_array_size(arr);
    int rc;

    if ((rc = go_atoi(key, &i)) < 0)
        return pl_error_set(PL_EINVALID, "strconv.Atoi: parsing \"%s\": %s", key, atoi_error(rc));
    if (i < 0) {
        if (i < -len)
            return invalid_index(i);
        i += len;
    }
    if (i >= len)
        return invalid_index(i);
    *idx = (size_t)i;
    return 0;
}

/*
 * Value of `key` in a container (borrowed) as the library's get: objects return NULL for a
 * missing key without failing; arrays fail on a bad index.
 */
static int container_get(json_t **out, json_t *con, const char *key)
{
    size_t i = 0; /* array_index sets it on success; gcc -O3 cannot see that */
    int error;

    *out = NULL;
    if (json_is_object(con)) {
        *out = json_object_get(con, key);
        return 0;
    }
    if ((error = array_index(&i, con, key)) < 0)
        return error;
    *out = json_array_get(con, i);
    return 0;
}

/* add semantics (takes the reference to val in all cases). */
static int container_add_take(json_t *con, const char *key, json_t *val)
{
    long long i, sz;
    int rc;

    if (!val)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (json_is_object(con)) {
        if (json_object_set_new(con, key, val) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    if (!strcmp(key, "-")) {
        if (json_array_append_new(con, val) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    if ((rc = go_atoi(key, &i)) < 0) {
        json_decref(val);
        return pl_error_set(PL_EINVALID,
                            "value was not a proper array index: '%s': strconv.Atoi: parsing "
                            "\"%s\": %s",
                            key, key, atoi_error(rc));
    }
    /* the library sizes the new array first, so bounds are relative to len + 1 */
    sz = (long long)json_array_size(con) + 1;
    if (i >= sz || i < -sz) {
        json_decref(val);
        return invalid_index(i);
    }
    if (i < 0)
        i += sz;
    if (json_array_insert_new(con, (size_t)i, val) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static int container_remove(json_t *con, const char *key)
{
    long long i, len;
    int rc;

    if (json_is_object(con)) {
        if (json_object_del(con, key) < 0)
            return pl_error_set(PL_EINVALID,
                                "Unable to remove nonexistent key: %s: missing value", key);
        return 0;
    }
    if ((rc = go_atoi(key, &i)) < 0)
        return pl_error_set(PL_EINVALID, "strconv.Atoi: parsing \"%s\": %s", key, atoi_error(rc));
    len = (long long)json_array_size(con);
    if (i >= len || i < -len)
        return invalid_index(i);
    if (i < 0)
        i += len;
    json_array_remove(con, (size_t)i);
    return 0;
}

/* replace's set, after get succeeded (takes val). */
static int container_set_take(json_t *con, const char *key, json_t *val)
{
    size_t i;
    int error;

    if (!val)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (json_is_object(con)) {
        if (json_object_set_new(con, key, val) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    if ((error = array_index(&i, con, key)) < 0) {
        json_decref(val);
        return error;
    }
    if (json_array_set_new(con, i, val) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/*
 * The library's findObject: the container holding the last token (borrowed) and that token
 * decoded (owned, in *key). NULL container when any step is missing or not a container.
 */
static int find_container(json_t **out, char **key, json_t *doc, const char *path)
{
    const char *p = strchr(path, '/');
    const char *last;
    json_t *cur = doc;

    *out = NULL;
    *key = NULL;
    if (!p)
        return 0; /* "" or no separator: never addressable */
    last = strrchr(path, '/');
    /* walk the tokens between the first and the last separator */
    while (p != last) {
        const char *next = strchr(p + 1, '/');
        char *tok = decode_token(p + 1, (size_t)(next - p - 1));
        json_t *child = NULL;

        if (!tok)
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (json_is_object(cur)) {
            child = json_object_get(cur, tok);
        } else {
            size_t i;
            if (array_index(&i, cur, tok) == 0)
                child = json_array_get(cur, i);
        }
        pl_free(tok);
        if (!json_is_object(child) && !json_is_array(child))
            return 0;
        cur = child;
        p = next;
    }
    if (!(*key = decode_token(last + 1, strlen(last + 1))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    *out = cur;
    return 0;
}

/* Go's JSON text for numbers compares float64 values; everything else structurally. */
static int values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *va;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach ((json_t *)a, k, va) {
            json_t *vb = json_object_get(b, k);
            if (!vb || !values_equal(va, vb))
                return 0;
        }
        return 1;
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

/* Read a string member of an op; *out NULL when absent or not a string. */
static const char *op_str(const json_t *op, const char *field)
{
    return json_string_value(json_object_get(op, field));
}

static int op_add(json_t *doc, const json_t *op, const char *path)
{
    json_t *con;
    char *key = NULL;
    const json_t *v = json_object_get(op, "value");
    int error;

    if ((error = find_container(&con, &key, doc, path)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "add operation does not apply: doc is missing path: \"%s\": missing "
                             "value",
                             path);
        goto done;
    }
    if ((error = container_add_take(con, key, v ? json_deep_copy(v) : json_null())) < 0)
        pl_error_prefix("error in add for path: '%s'", path);
done:
    pl_free(key);
    return error;
}

static int op_remove(json_t *doc, const char *path)
{
    json_t *con;
    char *key = NULL;
    int error;

    if ((error = find_container(&con, &key, doc, path)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "remove operation does not apply: doc is missing path: \"%s\": "
                             "missing value",
                             path);
        goto done;
    }
    if ((error = container_remove(con, key)) < 0)
        pl_error_prefix("error in remove for path: '%s'", path);
done:
    pl_free(key);
    return error;
}

static int op_replace(json_t *doc, const json_t *op, const char *path)
{
    json_t *con, *cur;
    char *key = NULL;
    const json_t *v = json_object_get(op, "value");
    int error;

    if ((error = find_container(&con, &key, doc, path)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "replace operation does not apply: doc is missing path: %s: missing "
                             "value",
                             path);
        goto done;
    }
    if (container_get(&cur, con, key) < 0) {
        error = pl_error_set(PL_EINVALID,
                             "replace operation does not apply: doc is missing key: %s: missing "
                             "value",
                             path);
        goto done;
    }
    if ((error = container_set_take(con, key, v ? json_deep_copy(v) : json_null())) < 0)
        pl_error_prefix("error in replace for path: '%s'", path);
done:
    pl_free(key);
    return error;
}

static int op_move(json_t *doc, const char *from, const char *path)
{
    json_t *con, *val = NULL;
    char *key = NULL;
    int error;

    if ((error = find_container(&con, &key, doc, from)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "move operation does not apply: doc is missing from path: %s: "
                             "missing value",
                             from);
        goto done;
    }
    if ((error = container_get(&val, con, key)) < 0) {
        pl_error_prefix("error in move for path: '%s'", key);
        goto done;
    }
    json_incref(val); /* held here between the remove and the add (NULL-safe) */
    if ((error = container_remove(con, key)) < 0) {
        pl_error_prefix("error in move for path: '%s'", key);
        goto done;
    }
    pl_free(key);
    key = NULL;
    if ((error = find_container(&con, &key, doc, path)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "move operation does not apply: doc is missing destination path: "
                             "%s: missing value",
                             path);
        goto done;
    }
    error = container_add_take(con, key, val ? val : json_null());
    val = NULL;
    if (error < 0)
        pl_error_prefix("error in move for path: '%s'", path);
done:
    json_decref(val);
    pl_free(key);
    return error;
}

static int op_copy(json_t *doc, const char *from, const char *path)
{
    json_t *con, *val = NULL, *copy;
    char *key = NULL;
    int error;

    if ((error = find_container(&con, &key, doc, from)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "copy operation does not apply: doc is missing from path: %s: "
                             "missing value",
                             from);
        goto done;
    }
    if ((error = container_get(&val, con, key)) < 0) {
        pl_error_prefix("error in copy for from: '%s'", from);
        goto done;
    }
    /* copy before looking up the destination: the destination may be inside the source */
    copy = val ? json_deep_copy(val) : json_null();
    pl_free(key);
    key = NULL;
    if ((error = find_container(&con, &key, doc, path)) < 0) {
        json_decref(copy);
        goto done;
    }
    if (!con) {
        json_decref(copy);
        error = pl_error_set(PL_EINVALID,
                             "copy operation does not apply: doc is missing destination path: "
                             "%s: missing value",
                             path);
        goto done;
    }
    if ((error = container_add_take(con, key, copy)) < 0)
        pl_error_prefix("error while adding value during copy");
done:
    pl_free(key);
    return error;
}

static int op_test(json_t *doc, const json_t *op, const char *path)
{
    json_t *con, *cur;
    char *key = NULL;
    const json_t *v = json_object_get(op, "value");
    int error;

    if ((error = find_container(&con, &key, doc, path)) < 0)
        goto done;
    if (!con) {
        error = pl_error_set(PL_EINVALID,
                             "test operation does not apply: is missing path: %s: missing value",
                             path);
        goto done;
    }
    if ((error = container_get(&cur, con, key)) < 0) {
        pl_error_prefix("error in test for path: '%s'", path);
        goto done;
    }
    /* a missing value only equals an explicit null */
    if (!cur ? (v && json_is_null(v)) : (v && values_equal(cur, v)))
        goto done;
    error = pl_error_set(PL_EINVALID, "testing value %s failed: test failed", path);
done:
    pl_free(key);
    return error;
}

static int apply_one(json_t *doc, const json_t *op)
{
    const char *kind = op_str(op, "op");
    const char *path = op_str(op, "path");
    const char *from = op_str(op, "from");

    if (!kind)
        kind = "unknown";
    if (strcmp(kind, "add") && strcmp(kind, "remove") && strcmp(kind, "replace") &&
        strcmp(kind, "move") && strcmp(kind, "copy") && strcmp(kind, "test"))
        return pl_error_set(PL_EINVALID, "Unexpected kind: %s", kind);
    if (!path)
        return pl_error_set(PL_EINVALID,
                            "%s operation failed to decode path: missing value", kind);
    if ((!strcmp(kind, "move") || !strcmp(kind, "copy")) && !from)
        return pl_error_set(PL_EINVALID,
                            "%s operation failed to decode from: missing value", kind);
    switch (kind[0]) {
    case 'a':
        return op_add(doc, op, path);
    case 'r':
        return kind[2] == 'm' ? op_remove(doc, path) : op_replace(doc, op, path);
    case 'm':
        return op_move(doc, from, path);
    case 'c':
        return op_copy(doc, from, path);
    default:
        return op_test(doc, op, path);
    }
}

int pl_kz_jsonpatch_apply(json_t **target, const json_t *ops)
{
    size_t i;
    int error;

    if (!target || (!json_is_object(*target) && !json_is_array(*target)))
        return pl_error_set(PL_EINVALID, "json patch: document is not an object or a list");
    if (json_is_null(ops))
        return 0;
    if (!json_is_array(ops))
        return pl_error_set(PL_EINVALID,
                            "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                            json_is_object(ops)   ? "object"
                            : json_is_string(ops) ? "string"
                                                  : "value");
    /* the library decodes every op before applying any */
    for (i = 0; i < json_array_size(ops); i++)
        if (!json_is_object(json_array_get(ops, i)))
            return pl_error_set(PL_EINVALID, "json: cannot unmarshal operation %zu into Go value "
                                             "of type jsonpatch.Operation",
                                i);
    for (i = 0; i < json_array_size(ops); i++)
        if ((error = apply_one(*target, json_array_get(ops, i))) < 0)
            return error;
    return 0;
}
