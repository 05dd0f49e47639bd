/*
 * sb_select.c - label and field selectors for list, watch and deletecollection
 * (API-NOTES §2 query parameters).
 *
 * Label selectors: comma-separated requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a)`, `k`, `!k` (commas inside parentheses belong to the set). Field selectors:
 * `f=v`, `f==v`, `f!=v` on metadata.name and metadata.namespace (and a few per-type fields of
 * built-ins); anything else is the 400 of §2 with the exact message.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sb_api_int.h"

typedef enum { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS } sel_op;

typedef struct sel_req {
    char *key;
    sel_op op;
    char **values;
    size_t nvalues;
} sel_req;

struct sb_selector {
    int field; /* 1 = field selector (keys are JSON paths) */
    sel_req *reqs;
    size_t n;
};

void sb_selector_free(sb_selector *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        pl_free(s->reqs[i].key);
        for (size_t j = 0; j < s->reqs[i].nvalues; j++)
            pl_free(s->reqs[i].values[j]);
        pl_free(s->reqs[i].values);
    }
    pl_free(s->reqs);
    pl_free(s);
}

static sel_req *add_req(sb_selector *s)
{
    sel_req *r = pl_realloc(s->reqs, (s->n + 1) * sizeof(*r));
    if (r == NULL)
        return NULL;
    s->reqs = r;
    memset(&r[s->n], 0, sizeof(*r));
    return &r[s->n++];
}

static int add_value(sel_req *r, const char *v, size_t n)
{
    char **vals = pl_realloc(r->values, (r->nvalues + 1) * sizeof(*vals));
    if (vals == NULL)
        return PL_ENOMEM;
    r->values = vals;
    vals[r->nvalues] = pl_strndup(v, n);
    if (vals[r->nvalues] == NULL)
        return PL_ENOMEM;
    r->nvalues++;
    return 0;
}

static char *trim_dup(const char *p, size_t n)
{
    while (n > 0 && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    return pl_strndup(p, n);
}

static int key_char(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static int value_ok(const char *v)
{
    /* label value: empty, or <= 63 of [A-Za-z0-9_.-] starting and ending alphanumeric */
    size_t n = strlen(v);
    if (n == 0)
        return 1;
    if (n > 63 || !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return 0;
    }
    return 1;
}

/* "<pre>'<a>'<post>" as an owned message (no format strings from variables) */
static char *errf3(const char *pre, const char *a, const char *post)
{
    pl_buf b = PL_BUF_INIT;
    pl_buf_puts(&b, pre);
    pl_buf_puts(&b, a);
    pl_buf_puts(&b, post);
    return pl_buf_detach(&b);
}

/* One label requirement from text[0..n). */
static int parse_label_req(sb_selector *s, const char *text, size_t n, char **err)
{
    char *req = trim_dup(text, n);
    if (req == NULL)
        return PL_ENOMEM;
    int rc = 0;
    sel_req *r = add_req(s);
    if (r == NULL) {
        pl_free(req);
        return PL_ENOMEM;
    }
    const char *p = req;
    if (*p == '!') {
        p++;
        while (isspace((unsigned char)*p))
            p++;
        r->op = OP_NOTEXISTS;
    }
    const char *k0 = p;
    while (*p && key_char((unsigned char)*p))
        p++;
    if (p == k0) {
        *err = errf3("unable to parse requirement: found '", req, "', expected: identifier");
        rc = PL_EINVALID;
        goto done;
    }
    r->key = pl_strndup(k0, (size_t)(p - k0));
    while (isspace((unsigned char)*p))
        p++;
    if (r->op == OP_NOTEXISTS || *p == '\0') {
        if (*p != '\0') {
            *err = errf3("unable to parse requirement: unexpected text in '", req, "'");
            rc = PL_EINVALID;
        } else if (r->op != OP_NOTEXISTS) {
            r->op = OP_EXISTS;
        }
        goto done;
    }
    if (p[0] == '=' || (p[0] == '!' && p[1] == '=')) {
        r->op = p[0] == '!' ? OP_NE : OP_EQ;
        p += (p[0] == '!' || p[1] == '=') ? 2 : 1;
        while (isspace((unsigned char)*p))
            p++;
        char *v = trim_dup(p, strlen(p));
        if (v == NULL) {
            rc = PL_ENOMEM;
            goto done;
        }
        if (!value_ok(v)) {
            *err = errf3("unable to parse requirement: values[0][", r->key,
                         "]: Invalid value: a valid label must be an empty string or consist of "
                         "alphanumeric characters, '-', '_' or '.', and must start and end with "
                         "an alphanumeric character");
            rc = PL_EINVALID;
        } else {
            rc = add_value(r, v, strlen(v));
        }
        pl_free(v);
        goto done;
    }
    int notin = strncmp(p, "notin", 5) == 0 && !key_char((unsigned char)p[5]);
    int in = strncmp(p, "in", 2) == 0 && !key_char((unsigned char)p[2]);
    if (!notin && !in) {
        *err = errf3("unable to parse requirement: found '", p,
                     "', expected: in, notin, =, ==, !=, gt, lt");
        rc = PL_EINVALID;
        goto done;
    }
    r->op = notin ? OP_NOTIN : OP_IN;
    p += notin ? 5 : 2;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    if (*p != '(' || len < 2 || p[len - 1] != ')') {
        *err = errf3("unable to parse requirement: found '", p, "', expected: '('");
        rc = PL_EINVALID;
        goto done;
    }
    const char *v = p + 1, *end = p + len - 1;
    while (v <= end && rc == 0) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        const char *stop = comma ? comma : end;
        char *val = trim_dup(v, (size_t)(stop - v));
        if (val == NULL) {
            rc = PL_ENOMEM;
            break;
        }
        if (!value_ok(val)) {
            *err = errf3("unable to parse requirement: invalid label value: \"", val, "\"");
            rc = PL_EINVALID;
        } else {
            rc = add_value(r, val, strlen(val));
        }
        pl_free(val);
        v = stop + 1;
    }
done:
    pl_free(req);
    return rc;
}

int sb_labelsel_parse(sb_selector **out, const char *text, char **err)
{
    *out = NULL;
    *err = NULL;
    sb_selector *s = pl_calloc(1, sizeof(*s));
    if (s == NULL)
        return PL_ENOMEM;
    int rc = 0;
    const char *p = text ? text : "";
    while (*p && rc == 0) {
        /* split on commas outside parentheses */
        const char *q = p;
        int depth = 0;
        while (*q && (depth > 0 || *q != ',')) {
            if (*q == '(')
                depth++;
            else if (*q == ')')
                depth--;
            q++;
        }
        size_t n = (size_t)(q - p);
        int blank = 1;
        for (size_t i = 0; i < n; i++)
            if (!isspace((unsigned char)p[i]))
                blank = 0;
        if (!blank)
            rc = parse_label_req(s, p, n, err);
        p = *q ? q + 1 : q;
    }
    if (rc < 0) {
        sb_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Field paths a built-in type supports besides metadata.name/namespace (API-NOTES §2). */
static int extra_field_ok(const char *resource, const char *f)
{
    if (strcmp(resource, "pods") == 0)
        return strcmp(f, "spec.nodeName") == 0 || strcmp(f, "status.phase") == 0 ||
               strcmp(f, "spec.restartPolicy") == 0 || strcmp(f, "spec.schedulerName") == 0 ||
               strcmp(f, "spec.serviceAccountName") == 0 || strcmp(f, "status.podIP") == 0;
    if (strcmp(resource, "secrets") == 0)
        return strcmp(f, "type") == 0;
    if (strcmp(resource, "namespaces") == 0)
        return strcmp(f, "status.phase") == 0;
    if (strcmp(resource, "events") == 0)
        return strncmp(f, "involvedObject.", 15) == 0 || strcmp(f, "reason") == 0 ||
               strcmp(f, "type") == 0 || strcmp(f, "source") == 0;
    return 0;
}

int sb_fieldsel_parse(sb_selector **out, const char *text, const char *resource, int custom,
                      char **err)
{
    *out = NULL;
    *err = NULL;
    sb_selector *s = pl_calloc(1, sizeof(*s));
    if (s == NULL)
        return PL_ENOMEM;
    s->field = 1;
    int rc = 0;
    const char *p = text ? text : "";
    while (*p && rc == 0) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        char *term = trim_dup(p, n);
        p = q ? q + 1 : p + n;
        if (term == NULL) {
            rc = PL_ENOMEM;
            break;
        }
        if (term[0] == '\0') {
            pl_free(term);
            continue;
        }
        char *op = strstr(term, "!=");
        sel_op o = OP_NE;
        size_t oplen = 2;
        if (op == NULL) {
            op = strstr(term, "==");
            o = OP_EQ;
        }
        if (op == NULL) {
            op = strchr(term, '=');
            o = OP_EQ;
            oplen = 1;
        }
        if (op == NULL) {
            pl_buf b = PL_BUF_INIT;
            pl_buf_printf(&b, "invalid selector: '%s'; can't understand '%s'", text, term);
            *err = pl_buf_detach(&b);
            pl_free(term);
            rc = PL_EINVALID;
            break;
        }
        char *key = trim_dup(term, (size_t)(op - term));
        char *val = trim_dup(op + oplen, strlen(op + oplen));
        pl_free(term);
        if (key == NULL || val == NULL) {
            pl_free(key);
            pl_free(val);
            rc = PL_ENOMEM;
            break;
        }
        int known = strcmp(key, "metadata.name") == 0 || strcmp(key, "metadata.namespace") == 0 ||
                    (!custom && extra_field_ok(resource, key));
        if (!known) {
            pl_buf b = PL_BUF_INIT;
            if (custom)
                pl_buf_printf(&b, "field label not supported: %s", key);
            else
                pl_buf_printf(&b,
                              "\"%s\" is not a known field selector: only \"metadata.name\", "
                              "\"metadata.namespace\"",
                              key);
            *err = pl_buf_detach(&b);
            pl_free(key);
            pl_free(val);
            rc = PL_EINVALID;
            break;
        }
        sel_req *r = add_req(s);
        if (r == NULL) {
            pl_free(key);
            pl_free(val);
            rc = PL_ENOMEM;
            break;
        }
        r->key = key;
        r->op = o;
        rc = add_value(r, val, strlen(val));
        pl_free(val);
    }
    if (rc < 0) {
        sb_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *sb_fieldsel_name(const sb_selector *s)
{
    for (size_t i = 0; s != NULL && i < s->n; i++)
        if (s->reqs[i].op == OP_EQ && strcmp(s->reqs[i].key, "metadata.name") == 0)
            return s->reqs[i].values[0];
    return NULL;
}

/* Value of a dotted field path as a string ("" when absent). */
static const char *field_value(const json_t *obj, const char *path, char *scratch, size_t sz)
{
    const json_t *cur = obj;
    const char *p = path;
    while (cur != NULL && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof(key))
            return "";
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p = dot ? dot + 1 : p + n;
    }
    if (json_is_string(cur))
        return json_string_value(cur);
    if (json_is_integer(cur)) {
        snprintf(scratch, sz, "%lld", (long long)json_integer_value(cur));
        return scratch;
    }
    if (json_is_boolean(cur))
        return json_is_true(cur) ? "true" : "false";
    return "";
}

int sb_selector_match(const sb_selector *s, const json_t *obj)
{
    if (s == NULL)
        return 1;
    const json_t *labels = pl_json_path(obj, "metadata", "labels", NULL);
    for (size_t i = 0; i < s->n; i++) {
        const sel_req *r = &s->reqs[i];
        const char *v;
        char scratch[32];
        int present;
        if (s->field) {
            v = field_value(obj, r->key, scratch, sizeof(scratch));
            present = 1;
        } else {
            const json_t *lv = json_object_get(labels, r->key);
            present = json_is_string(lv);
            v = present ? json_string_value(lv) : NULL;
        }
        int ok;
        switch (r->op) {
        case OP_EXISTS: ok = present; break;
        case OP_NOTEXISTS: ok = !present; break;
        case OP_EQ: ok = present && strcmp(v, r->values[0]) == 0; break;
        case OP_NE: ok = !present || strcmp(v, r->values[0]) != 0; break;
        case OP_IN:
        case OP_NOTIN: {
            int found = 0;
            for (size_t j = 0; present && j < r->nvalues; j++)
                if (strcmp(v, r->values[j]) == 0)
                    found = 1;
            ok = r->op == OP_IN ? found : !found;
            break;
        }
        default: ok = 0;
        }
        if (!ok)
            return 0;
    }
    return 1;
}
