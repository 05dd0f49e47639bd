/*
 * sb_validate.c - object validation of built-in kinds as far as a bootstrap needs it
 * (API-NOTES §3.4, §5.2, §6.2): names per kind, label and annotation keys and values,
 * ConfigMap/Secret keys, workload selectors, and the immutable fields tests rely on
 * (Deployment/StatefulSet/DaemonSet/ReplicaSet/Job selector, Job template, most of a
 * StatefulSet's spec, Service clusterIP, immutable ConfigMaps/Secrets, PVC spec). Other
 * validation of the real server (most field-level rules) is not emulated; see the README.
 *
 * Causes are {"reason","message","field"} with the message `<Type text>[: <value>][: <detail>]`;
 * the 422 Status wraps them as §6.2 describes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sb_api_int.h"

static const char SUBDOMAIN_MSG[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char LABEL_MSG[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char DNS1035_MSG[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char QNAME_PART_MSG[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char QNAME_MSG[] =
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')";
static const char LABELVAL_MSG[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
static const char CONFIGKEY_MSG[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')";

/* ---- causes and the 422 body ------------------------------------------------------------- */

static const char *type_text(const char *type)
{
    static const struct {
        const char *type, *text;
    } map[] = {{"FieldValueInvalid", "Invalid value"},
               {"FieldValueTypeInvalid", "Invalid value"},
               {"FieldValueRequired", "Required value"},
               {"FieldValueNotSupported", "Unsupported value"},
               {"FieldValueForbidden", "Forbidden"},
               {"FieldValueTooLong", "Too long"},
               {"FieldValueTooMany", "Too many"},
               {"FieldValueDuplicate", "Duplicate value"},
               {"FieldValueNotFound", "Not found"},
               {"InternalError", "Internal error"},
               {NULL, NULL}};
    for (int i = 0; map[i].type; i++)
        if (strcmp(map[i].type, type) == 0)
            return map[i].text;
    return "Invalid value";
}

json_t *sb_cause(const char *type, const char *field, const json_t *value, const char *detail)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_puts(&m, type_text(type));
    if (value != NULL) {
        /* strings quoted, numbers and booleans bare, the rest JSON (API-NOTES §6.2) */
        char *v = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        pl_buf_printf(&m, ": %s", v ? v : "null");
        pl_free(v);
    }
    if (detail != NULL && detail[0])
        pl_buf_printf(&m, ": %s", detail);
    json_t *c = json_pack("{s:s,s:s,s:s}", "reason", type, "message", m.ptr ? m.ptr : "", "field",
                          field);
    pl_buf_dispose(&m);
    return c;
}

json_t *sb_invalid_status(const char *kind, const char *group, const char *name,
                          const json_t *causes)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_printf(&m, "%s%s%s \"%s\" is invalid: ", kind, (group && group[0]) ? "." : "",
                  group ? group : "", name ? name : "");
    size_t n = json_array_size(causes);
    if (n > 1)
        pl_buf_putc(&m, '[');
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        pl_buf_printf(&m, "%s%s: %s", i ? ", " : "", pl_json_str(c, "field", NULL),
                      pl_json_str(c, "message", NULL));
    }
    if (n > 1)
        pl_buf_putc(&m, ']');
    json_t *d = json_object();
    if (name != NULL && name[0])
        json_object_set_new(d, "name", json_string(name));
    if (group != NULL && group[0])
        json_object_set_new(d, "group", json_string(group));
    json_object_set_new(d, "kind", json_string(kind));
    json_object_set_new(d, "causes", json_deep_copy(causes));
    json_t *st = sb_status_new(422, "Invalid", m.ptr, d);
    json_decref(d);
    pl_buf_dispose(&m);
    return st;
}

/* ---- name rules ----------------------------------------------------------------------------- */

static int dns_label_ok(const char *s, size_t n, int first_alpha)
{
    if (n == 0 || !(islower((unsigned char)s[0]) || (!first_alpha && isdigit((unsigned char)s[0]))))
        return 0;
    if (!(islower((unsigned char)s[n - 1]) || isdigit((unsigned char)s[n - 1])))
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!islower(c) && !isdigit(c) && c != '-')
            return 0;
    }
    return 1;
}

static int subdomain_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    const char *p = s;
    while (1) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!dns_label_ok(p, len, 0))
            return 0;
        if (dot == NULL)
            return 1;
        p = dot + 1;
    }
}

static void invalid(json_t *causes, const char *field, const char *value, const char *detail)
{
    json_t *v = json_string(value);
    json_array_append_new(causes, sb_cause("FieldValueInvalid", field, v, detail));
    json_decref(v);
}

static void check_name(const sb_type *t, const char *name, json_t *causes)
{
    size_t n = strlen(name);
    char toolong[64];
    switch (t->name_rule) {
    case SB_NAME_LABEL:
    case SB_NAME_DNS1035: {
        int max = t->max_name_len > 0 ? t->max_name_len : 63;
        snprintf(toolong, sizeof(toolong), "must be no more than %d characters", max);
        if ((int)n > max)
            invalid(causes, "metadata.name", name, toolong);
        if (!dns_label_ok(name, n, t->name_rule == SB_NAME_DNS1035))
            invalid(causes, "metadata.name", name,
                    t->name_rule == SB_NAME_LABEL ? LABEL_MSG : DNS1035_MSG);
        break;
    }
    case SB_NAME_PATHSEG:
        if (strcmp(name, ".") == 0)
            invalid(causes, "metadata.name", name, "may not be '.'");
        else if (strcmp(name, "..") == 0)
            invalid(causes, "metadata.name", name, "may not be '..'");
        else if (strchr(name, '/') != NULL)
            invalid(causes, "metadata.name", name, "may not contain '/'");
        else if (strchr(name, '%') != NULL)
            invalid(causes, "metadata.name", name, "may not contain '%'");
        break;
    case SB_NAME_SUBDOMAIN:
    default: {
        int max = t->max_name_len > 0 ? t->max_name_len : 253;
        snprintf(toolong, sizeof(toolong), "must be no more than %d characters", max);
        if ((int)n > max)
            invalid(causes, "metadata.name", name, toolong);
        if (!subdomain_ok(name))
            invalid(causes, "metadata.name", name, SUBDOMAIN_MSG);
        break;
    }
    }
}

/* ---- labels and annotations ------------------------------------------------------------------ */

static int qname_part_ok(const char *s, size_t n)
{
    if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return 0;
    }
    return 1;
}

static void check_qualified_name(const char *key, const char *field, json_t *causes)
{
    const char *slash = strchr(key, '/');
    const char *name = key;
    if (slash != NULL) {
        if (strchr(slash + 1, '/') != NULL) {
            invalid(causes, field, key, QNAME_MSG);
            return;
        }
        size_t plen = (size_t)(slash - key);
        char *prefix = pl_strndup(key, plen);
        if (prefix != NULL) {
            if (plen == 0) {
                invalid(causes, field, key, "prefix part must be non-empty");
            } else if (plen > 253) {
                invalid(causes, field, key, "prefix part must be no more than 253 characters");
            } else if (!subdomain_ok(prefix)) {
                pl_buf m = PL_BUF_INIT;
                pl_buf_printf(&m, "prefix part %s", SUBDOMAIN_MSG);
                invalid(causes, field, key, m.ptr);
                pl_buf_dispose(&m);
            }
            pl_free(prefix);
        }
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        invalid(causes, field, key, "name part must be non-empty");
    else if (n > 63)
        invalid(causes, field, key, "name part must be no more than 63 characters");
    if (n > 0 && !qname_part_ok(name, n))
        invalid(causes, field, key, QNAME_PART_MSG);
}

static void check_labels(const json_t *labels, const char *field, json_t *causes)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        check_qualified_name(k, field, causes);
        const char *s = json_string_value(v);
        if (s == NULL)
            continue;
        size_t n = strlen(s);
        if (n > 63)
            invalid(causes, field, s, "must be no more than 63 characters");
        if (n > 0 && !qname_part_ok(s, n))
            invalid(causes, field, s, LABELVAL_MSG);
    }
}

static void check_annotations(const json_t *ann, json_t *causes)
{
    const char *k;
    json_t *v;
    size_t total = 0;
    json_object_foreach((json_t *)ann, k, v) {
        char *low = pl_strdup(k);
        if (low != NULL) {
            for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            check_qualified_name(low, "metadata.annotations", causes);
            pl_free(low);
        }
        total += strlen(k) + (json_string_value(v) ? strlen(json_string_value(v)) : 0);
    }
    if (total > 262144)
        json_array_append_new(causes, sb_cause("FieldValueTooLong", "metadata.annotations", NULL,
                                               "must have at most 262144 bytes"));
}

static void check_config_keys(const json_t *data, const char *what, json_t *causes)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)data, k, v) {
        size_t n = strlen(k);
        int ok = n > 0 && n <= 253;
        for (size_t i = 0; ok && i < n; i++) {
            int c = (unsigned char)k[i];
            if (!isalnum(c) && c != '-' && c != '_' && c != '.')
                ok = 0;
        }
        if (strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
            ok = 0;
        if (!ok) {
            pl_buf f = PL_BUF_INIT;
            pl_buf_printf(&f, "%s[%s]", what, k);
            invalid(causes, f.ptr, k, CONFIGKEY_MSG);
            pl_buf_dispose(&f);
        }
    }
}

/* ---- kind rules -------------------------------------------------------------------------------- */

static int is(const sb_type *t, const char *group, const char *kind)
{
    return strcmp(t->group, group) == 0 && strcmp(t->kind, kind) == 0;
}

static void check_workload(const sb_type *t, const json_t *obj, const json_t *old, json_t *causes)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *sel = json_object_get(spec, "selector");
    const json_t *replicas = json_object_get(spec, "replicas");
    if (json_is_integer(replicas) && json_integer_value(replicas) < 0)
        json_array_append_new(causes, sb_cause("FieldValueInvalid", "spec.replicas", replicas,
                                               "must be greater than or equal to 0"));
    if (!json_is_object(sel)) {
        json_array_append_new(causes, sb_cause("FieldValueRequired", "spec.selector", NULL, NULL));
    } else {
        /* matchLabels must select the template's labels */
        const json_t *ml = json_object_get(sel, "matchLabels");
        const json_t *tl = pl_json_path(spec, "template", "metadata", "labels", NULL);
        const char *k;
        json_t *v;
        int match = 1;
        json_object_foreach((json_t *)ml, k, v) {
            if (!json_equal(v, json_object_get(tl, k)))
                match = 0;
        }
        if (!match) {
            json_t *val = tl ? json_incref((json_t *)tl) : json_object();
            json_array_append_new(causes, sb_cause("FieldValueInvalid", "spec.template.metadata.labels",
                                                   val, "`selector` does not match template `labels`"));
            json_decref(val);
        }
        if (old != NULL) {
            const json_t *osel = pl_json_path(old, "spec", "selector", NULL);
            if (osel != NULL && !json_equal(osel, sel))
                json_array_append_new(causes, sb_cause("FieldValueInvalid", "spec.selector", sel,
                                                       "field is immutable"));
        }
    }
    if (old != NULL && is(t, "apps", "StatefulSet")) {
        /* only these StatefulSet spec fields may change (API-NOTES §5.2) */
        json_t *a = json_deep_copy(json_object_get(old, "spec"));
        json_t *b = json_deep_copy(spec);
        static const char *const mutable_[] = {"replicas", "ordinals", "template",
                                               "updateStrategy",
                                               "persistentVolumeClaimRetentionPolicy",
                                               "minReadySeconds", "selector", NULL};
        for (int i = 0; mutable_[i]; i++) {
            json_object_del(a, mutable_[i]);
            json_object_del(b, mutable_[i]);
        }
        if (a != NULL && b != NULL && !json_equal(a, b))
            json_array_append_new(
                causes, sb_cause("FieldValueForbidden", "spec", NULL,
                                 "updates to statefulset spec for fields other than 'replicas', "
                                 "'ordinals', 'template', 'updateStrategy', "
                                 "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                                 "are forbidden"));
        json_decref(a);
        json_decref(b);
    }
}

static void check_immutable(const char *field, const json_t *now, const json_t *before,
                            json_t *causes)
{
    if (before != NULL && (now == NULL || !json_equal(now, before)))
        json_array_append_new(causes, sb_cause("FieldValueInvalid", field, now ? now : before,
                                               "field is immutable"));
}

void sb_validate_object(const sb_type *t, const json_t *obj, const json_t *old, json_t *causes)
{
    const char *name = pl_json_str(obj, "metadata", "name", NULL);
    if (name == NULL || name[0] == '\0')
        json_array_append_new(causes, sb_cause("FieldValueRequired", "metadata.name", NULL,
                                               "name or generateName is required"));
    else
        check_name(t, name, causes);
    const json_t *labels = pl_json_path(obj, "metadata", "labels", NULL);
    if (json_is_object(labels))
        check_labels(labels, "metadata.labels", causes);
    const json_t *ann = pl_json_path(obj, "metadata", "annotations", NULL);
    if (json_is_object(ann))
        check_annotations(ann, causes);
    if (t->flags & SB_T_CUSTOM)
        return;
    if (is(t, "", "ConfigMap") || is(t, "", "Secret")) {
        check_config_keys(json_object_get(obj, "data"), "data", causes);
        if (is(t, "", "ConfigMap"))
            check_config_keys(json_object_get(obj, "binaryData"), "binaryData", causes);
        if (old != NULL && json_is_true(json_object_get(old, "immutable"))) {
            if (!json_is_true(json_object_get(obj, "immutable")))
                json_array_append_new(causes,
                                      sb_cause("FieldValueForbidden", "immutable", NULL,
                                               "field is immutable when `immutable` is set"));
            static const char *const fields[] = {"data", "binaryData", NULL};
            for (int i = 0; fields[i]; i++) {
                const json_t *a = json_object_get(obj, fields[i]);
                const json_t *b = json_object_get(old, fields[i]);
                if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
                    json_array_append_new(causes,
                                          sb_cause("FieldValueForbidden", fields[i], NULL,
                                                   "field is immutable when `immutable` is set"));
            }
        }
    } else if (is(t, "apps", "Deployment") || is(t, "apps", "StatefulSet") ||
               is(t, "apps", "DaemonSet") || is(t, "apps", "ReplicaSet")) {
        check_workload(t, obj, old, causes);
    } else if (is(t, "batch", "Job") && old != NULL) {
        check_immutable("spec.selector", pl_json_path(obj, "spec", "selector", NULL),
                        pl_json_path(old, "spec", "selector", NULL), causes);
        check_immutable("spec.template", pl_json_path(obj, "spec", "template", NULL),
                        pl_json_path(old, "spec", "template", NULL), causes);
    } else if (is(t, "", "Service") && old != NULL) {
        const json_t *a = pl_json_path(obj, "spec", "clusterIP", NULL);
        const json_t *b = pl_json_path(old, "spec", "clusterIP", NULL);
        if (a != NULL && b != NULL && !json_equal(a, b))
            json_array_append_new(causes, sb_cause("FieldValueInvalid", "spec.clusterIP", a,
                                                   "field is immutable"));
    } else if (is(t, "", "PersistentVolumeClaim") && old != NULL) {
        json_t *a = json_deep_copy(json_object_get(obj, "spec"));
        json_t *b = json_deep_copy(json_object_get(old, "spec"));
        json_object_del(a, "resources");
        json_object_del(b, "resources");
        json_object_del(a, "volumeAttributesClassName");
        json_object_del(b, "volumeAttributesClassName");
        if (a != NULL && b != NULL && !json_equal(a, b))
            json_array_append_new(causes,
                                  sb_cause("FieldValueForbidden", "spec", NULL,
                                           "spec is immutable after creation except "
                                           "resources.requests and volumeAttributesClassName "
                                           "for bound claims"));
        json_decref(a);
        json_decref(b);
    }
}
