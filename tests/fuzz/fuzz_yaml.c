/*
 * fuzz_yaml.c - pl_yaml_parse + pl_yaml_emit_stream on arbitrary bytes.
 *
 * Besides memory safety (ASan/UBSan) it checks the writer's core promise: what it prints reads
 * back as the same values. A string the writer leaves plain but that resolves to a number,
 * bool or null, or a folded line that loses a space, fails here. Strings with a raw NEL are
 * exempt: go-yaml folds those on purpose (see yaml_write.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plumb/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_nel(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0x85)
            return 1;
    return 0;
}

/* equal as printed values: numbers by value (1.0 prints as the int 1) */
static int same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b) ||
               (isnan(json_number_value(a)) && isnan(json_number_value(b)));
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_string(a)) {
        if (has_nel(json_string_value(a), json_string_length(a)))
            return 1;
        return json_string_length(a) == json_string_length(b) &&
               !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
    }
    if (json_is_array(a)) {
        size_t i;
        json_t *v;
        if (json_array_size(a) != json_array_size(b))
            return 0;
        json_array_foreach(a, i, v) if (!same_value(v, json_array_get(b, i))) return 0;
        return 1;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w && has_nel(k, strlen(k)))
                continue;
            if (!w || !same_value(v, w))
                return 0;
        }
        return 1;
    }
    return 1; /* true, false, null */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_yaml_opts opts = PL_YAML_OPTS_INIT;
    json_t *docs = NULL, *again = NULL;
    pl_buf out = PL_BUF_INIT;

    opts.max_nodes = 200000; /* keep each run short */
    {
        /* the fast block-YAML scanner must agree with libyaml on every input */
        pl_yaml_opts slow = opts;
        json_t *ref = NULL;
        int ea, eb;
        slow.no_fast_path = 1;
        ea = pl_yaml_parse(&docs, (const char *)data, size, "fuzz.yaml", &opts);
        eb = pl_yaml_parse(&ref, (const char *)data, size, "fuzz.yaml", &slow);
        if (ea != eb) {
            fprintf(stderr, "fast path %d, libyaml %d\n", ea, eb);
            abort();
        }
        if (ea == 0) {
            char *ja = json_dumps(docs, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            char *jb = json_dumps(ref, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            if (!ja || !jb || strcmp(ja, jb)) {
                fprintf(stderr, "fast path and libyaml differ:\n%s\n%s\n", ja ? ja : "?",
                        jb ? jb : "?");
                abort();
            }
            free(ja);
            free(jb);
        }
        json_decref(ref);
        if (ea < 0)
            goto done;
    }
    if (pl_yaml_emit_stream(&out, docs) < 0)
        goto done;
    if (pl_yaml_parse(&again, out.ptr ? out.ptr : "", out.len, "out.yaml", NULL) < 0) {
        fprintf(stderr, "output does not parse: %s\n--- output:\n%s\n", pl_error_last()->message,
                out.ptr);
        abort();
    }
    /* documents that print as "null" (a null root is no resource) drop out on re-reading */
    if (json_array_size(again) == json_array_size(docs) && !same_value(docs, again)) {
        fprintf(stderr, "output reads back differently\n--- output:\n%s\n", out.ptr);
        abort();
    }
done:
    json_decref(docs);
    json_decref(again);
    pl_buf_dispose(&out);
    return 0;
}
