/*
 * app_kustomize.c - source.kustomize of an Application, applied the way Argo CD applies it.
 *
 * Argo CD's repo-server (util/kustomize/kustomize.go, Build) does not pass these options to
 * `kustomize build`; it first edits the app's own kustomization file with `kustomize edit`:
 *   namePrefix  -> kustomize edit set nameprefix -- P        (replaces the field)
 *   nameSuffix  -> kustomize edit set namesuffix -- S        (replaces the field)
 *   images      -> kustomize edit set image A=B:T ...        (merged by image name)
 *   replicas    -> kustomize edit set replicas NAME=COUNT    (merged by name)
 *   commonLabels / commonAnnotations
 *               -> kustomize edit add label|annotation --force k:v  (keys overwritten)
 *   namespace   -> kustomize edit set namespace N            (replaces the field)
 *   patches     -> appended to the file's `patches`
 *   components  -> kustomize edit add component P            (appended once each)
 * and then builds. We reproduce the edit on the parsed kustomization and serve the edited file
 * through a pl_fs layered over the source fs, so the kustomize renderer builds it unchanged
 * and the checkout (or the git object store) is never written.
 *
 * Image argument syntax is kustomize's (kustomize/commands/edit/set/setimage.go, parseArg and
 * parseOverwrite, pinned by its setimage_test.go table): "[NAME=]NEWNAME[:TAG|@DIGEST]",
 * where the tag is the text after the last ':' when it is only [A-Za-z0-9._-] (or "*").
 *
 * Not reproduced: the file rewrite's side effects (`kustomize edit` rewrites deprecated fields
 * such as `bases` into `resources`; our renderer reads both, in kustomize's order),
 * commonAnnotationsEnvsubst, forceCommonLabels=false refusing an existing label, labels
 * without selectors (Argo CD 2.x's labelWithoutSelector).
 */
#include <stdlib.h>
#include <string.h>

#include "apps_int.h"

/* kustomize's konfig.RecognizedKustomizationFileNames, in its order */
static const char *const kustomization_names[] = {"kustomization.yaml", "kustomization.yml",
                                                  "Kustomization"};

/* ---- the layered fs ------------------------------------------------------------------------ */

typedef struct layer_fs {
    pl_fs base;
    pl_fs *inner;
    char *path; /* the replaced file, as asked for */
    char *real; /* and its real path */
    char *data;
    size_t len;
} layer_fs;

static int is_layer_path(layer_fs *l, const char *path)
{
    return !strcmp(path, l->path) || (l->real && !strcmp(path, l->real));
}

static int layer_read(pl_fs *fs, const char *path, pl_buf *out)
{
    layer_fs *l = (layer_fs *)fs;
    if (is_layer_path(l, path))
        return pl_buf_put(out, l->data, l->len);
    return pl_fs_read(l->inner, path, out);
}

static pl_fs_kind layer_kind(pl_fs *fs, const char *path)
{
    layer_fs *l = (layer_fs *)fs;
    if (is_layer_path(l, path))
        return PL_FS_FILE;
    return pl_fs_kind_of(l->inner, path);
}

static int layer_list(pl_fs *fs, const char *path, char ***out, size_t *count)
{
    return pl_fs_list(((layer_fs *)fs)->inner, path, out, count);
}

static int layer_realpath(pl_fs *fs, const char *path, char **out)
{
    return pl_fs_realpath(((layer_fs *)fs)->inner, path, out);
}

static void layer_free(pl_fs *fs)
{
    layer_fs *l = (layer_fs *)fs;
    pl_free(l->path);
    pl_free(l->real);
    pl_free(l->data);
    pl_free(l);
}

static const pl_fs_ops layer_ops = {layer_read, layer_kind, layer_list, layer_realpath,
                                    layer_free};

/* ---- kustomize edit ------------------------------------------------------------------------ */

typedef struct image_arg {
    char *name, *new_name, *new_tag, *digest; /* NULL when not given */
} image_arg;

static void image_arg_dispose(image_arg *a)
{
    pl_free(a->name);
    pl_free(a->new_name);
    pl_free(a->new_tag);
    pl_free(a->digest);
    memset(a, 0, sizeof(*a));
}

static int tag_chars(const char *s)
{
    if (!strcmp(s, "*"))
        return 1;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* setimage.go parseOverwrite: name + digest, name + tag, or (overwrite_image) name alone */
static int parse_overwrite(char **name, char **tag, char **digest, const char *arg,
                           int overwrite_image)
{
    const char *at = strchr(arg, '@'), *colon = strrchr(arg, ':');
    if (at) {
        const char *end = strchr(at + 1, '@'); /* strings.Split: the part up to a next '@' */
        *name = pl_strndup(arg, (size_t)(at - arg));
        *digest = end ? pl_strndup(at + 1, (size_t)(end - at - 1)) : pl_strdup(at + 1);
        return *name && *digest ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (colon && tag_chars(colon + 1)) {
        *name = pl_strndup(arg, (size_t)(colon - arg));
        *tag = pl_strdup(colon + 1);
        return *name && *tag ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (*arg && overwrite_image) {
        *name = pl_strdup(arg);
        return *name ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
    }
    return PL_EINVALID;
}

static int parse_image(image_arg *out, const char *arg, const char *app_name)
{
    const char *eq = strchr(arg, '=');
    int error;

    memset(out, 0, sizeof(*out));
    /* strings.Split(arg, "=") with exactly two parts */
    if (eq && !strchr(eq + 1, '=')) {
        if (!(out->name = pl_strndup(arg, (size_t)(eq - arg))))
            return pl_error_set(PL_ENOMEM, "out of memory");
        error = parse_overwrite(&out->new_name, &out->new_tag, &out->digest, eq + 1, 1);
    } else {
        error = parse_overwrite(&out->name, &out->new_tag, &out->digest, arg, 0);
    }
    if (error == PL_EINVALID)
        error = pl_error_set(PL_EINVALID,
                             "application %s: source.kustomize.images: invalid image \"%s\" "
                             "(expected [NAME=]NEWNAME[:TAG|@DIGEST])",
                             app_name, arg);
    if (error < 0)
        image_arg_dispose(out);
    return error;
}

/* the array at k[key], created when absent; NULL when it is something else */
static json_t *array_field(json_t *k, const char *key)
{
    json_t *a = json_object_get(k, key);
    if (!a || json_is_null(a)) {
        a = json_array();
        json_object_set_new(k, key, a);
    }
    return json_is_array(a) ? a : NULL;
}

static json_t *object_field(json_t *k, const char *key)
{
    json_t *a = json_object_get(k, key);
    if (!a || json_is_null(a)) {
        a = json_object();
        json_object_set_new(k, key, a);
    }
    return json_is_object(a) ? a : NULL;
}

static int edit_images(json_t *k, const json_t *images, const char *app_name)
{
    json_t *list = array_field(k, "images"), *v, *e;
    size_t i, j;
    int error = 0;

    if (!list)
        return pl_error_set(PL_EINVALID, "application %s: kustomization images is not a list",
                            app_name);
    json_array_foreach(images, i, v)
    {
        image_arg a;
        json_t *found = NULL;
        if (!json_is_string(v))
            return pl_error_set(PL_EINVALID,
                                "application %s: source.kustomize.images[%zu] is not a string",
                                app_name, i);
        if ((error = parse_image(&a, json_string_value(v), app_name)) < 0)
            return error;
        json_array_foreach(list, j, e)
        {
            if (json_is_object(e) && pl_json_str(e, "name", NULL) &&
                !strcmp(pl_json_str(e, "name", NULL), a.name)) {
                found = e;
                break;
            }
        }
        if (!found) {
            found = json_pack("{s:s}", "name", a.name);
            json_array_append_new(list, found);
        }
        if (a.new_name)
            json_object_set_new(found, "newName", json_string(a.new_name));
        if (a.new_tag) {
            json_object_set_new(found, "newTag", json_string(a.new_tag));
            json_object_del(found, "digest");
        }
        if (a.digest) {
            json_object_set_new(found, "digest", json_string(a.digest));
            json_object_del(found, "newTag");
        }
        image_arg_dispose(&a);
    }
    return 0;
}

static int edit_replicas(json_t *k, const json_t *replicas, const char *app_name)
{
    json_t *list = array_field(k, "replicas"), *v, *e;
    size_t i, j;

    if (!list)
        return pl_error_set(PL_EINVALID,
                            "application %s: kustomization replicas is not a list", app_name);
    json_array_foreach(replicas, i, v)
    {
        const char *name = pl_json_str(v, "name", NULL);
        json_t *c = json_object_get(v, "count"), *found = NULL;
        long long count;
        if (!name || !*name)
            return pl_error_set(PL_EINVALID,
                                "application %s: source.kustomize.replicas[%zu] needs a name",
                                app_name, i);
        /* Argo CD's Replica.Count is an IntOrString holding a number */
        if (json_is_integer(c)) {
            count = json_integer_value(c);
        } else if (json_is_string(c)) {
            char *end = NULL;
            count = strtoll(json_string_value(c), &end, 10);
            if (!end || *end || end == json_string_value(c))
                return pl_error_set(PL_EINVALID,
                                    "application %s: source.kustomize.replicas[%zu]: count "
                                    "\"%s\" is not a number",
                                    app_name, i, json_string_value(c));
        } else {
            return pl_error_set(PL_EINVALID,
                                "application %s: source.kustomize.replicas[%zu] needs a count",
                                app_name, i);
        }
        json_array_foreach(list, j, e)
        {
            if (json_is_object(e) && pl_json_str(e, "name", NULL) &&
                !strcmp(pl_json_str(e, "name", NULL), name)) {
                found = e;
                break;
            }
        }
        if (!found) {
            found = json_pack("{s:s}", "name", name);
            json_array_append_new(list, found);
        }
        json_object_set_new(found, "count", json_integer(count));
    }
    return 0;
}

static int edit_map(json_t *k, const char *key, const json_t *add, const char *app_name)
{
    json_t *m = object_field(k, key), *v;
    const char *name;
    if (!m)
        return pl_error_set(PL_EINVALID, "application %s: kustomization %s is not a map",
                            app_name, key);
    json_object_foreach((json_t *)add, name, v)
    {
        /* `kustomize edit add label k:v` stores strings */
        if (json_is_string(v))
            json_object_set(m, name, v);
        else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            json_object_set_new(m, name, json_string(s ? s : ""));
            pl_free(s);
        }
    }
    return 0;
}

int pl_apps__kustomize_edit(json_t *k, const pl_app_kustomize *kz, const char *app_name)
{
    int error = 0;
    size_t i;
    json_t *v;

    if (!json_is_object(k))
        return pl_error_set(PL_EINVALID, "application %s: kustomization is not a map", app_name);
    if (kz->name_prefix)
        json_object_set_new(k, "namePrefix", json_string(kz->name_prefix));
    if (kz->name_suffix)
        json_object_set_new(k, "nameSuffix", json_string(kz->name_suffix));
    if (kz->images && (error = edit_images(k, kz->images, app_name)) < 0)
        return error;
    if (kz->replicas && (error = edit_replicas(k, kz->replicas, app_name)) < 0)
        return error;
    if (kz->common_labels &&
        (error = edit_map(k, "commonLabels", kz->common_labels, app_name)) < 0)
        return error;
    if (kz->common_annotations &&
        (error = edit_map(k, "commonAnnotations", kz->common_annotations, app_name)) < 0)
        return error;
    if (kz->namespace)
        json_object_set_new(k, "namespace", json_string(kz->namespace));
    if (kz->patches && json_array_size(kz->patches)) {
        json_t *list = array_field(k, "patches");
        if (!list)
            return pl_error_set(PL_EINVALID,
                                "application %s: kustomization patches is not a list", app_name);
        json_array_foreach(kz->patches, i, v) json_array_append(list, v);
    }
    if (kz->components && json_array_size(kz->components)) {
        json_t *list = array_field(k, "components"), *e;
        size_t j;
        if (!list)
            return pl_error_set(PL_EINVALID,
                                "application %s: kustomization components is not a list",
                                app_name);
        json_array_foreach(kz->components, i, v)
        {
            int seen = 0;
            if (!json_is_string(v))
                continue;
            json_array_foreach(list, j, e) seen |= json_equal(e, v);
            if (!seen)
                json_array_append(list, v);
        }
    }
    return 0;
}

int pl_apps__kustomize_fs(pl_fs **out, pl_fs *inner, const char *dir, const pl_app_kustomize *kz,
                          const char *app_name)
{
    layer_fs *l = NULL;
    char *file = NULL;
    pl_buf raw = PL_BUF_INIT, text = PL_BUF_INIT;
    json_t *docs = NULL, *k;
    pl_yaml_opts yopts = PL_YAML_OPTS_INIT;
    int error = 0;

    *out = NULL;
    for (size_t i = 0; i < sizeof(kustomization_names) / sizeof(kustomization_names[0]); i++) {
        char *p = pl_path_join(dir, kustomization_names[i]);
        if (!p)
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (pl_fs_kind_of(inner, p) == PL_FS_FILE) {
            file = p;
            break;
        }
        pl_free(p);
    }
    if (!file)
        return pl_error_set(PL_EINVALID,
                            "application %s: source.kustomize is set but %s holds no "
                            "kustomization.yaml",
                            app_name, dir);
    if ((error = pl_fs_read(inner, file, &raw)) < 0)
        goto done;
    /* kustomization files are read as go-yaml v2 reads them: a repeated key wins */
    yopts.duplicate_keys_last_wins = 1;
    if ((error = pl_yaml_parse(&docs, raw.ptr ? raw.ptr : "", raw.len, file, &yopts)) < 0)
        goto done;
    k = json_array_get(docs, 0);
    if (!k && !(k = json_object())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    } else if (!json_array_get(docs, 0)) {
        json_array_append_new(docs, k);
    }
    if ((error = pl_apps__kustomize_edit(k, kz, app_name)) < 0) {
        pl_error_prefix("%s", file);
        goto done;
    }
    if ((error = pl_yaml_emit(&text, k)) < 0)
        goto done;
    if (!(l = pl_calloc(1, sizeof(*l)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    l->base.ops = &layer_ops;
    l->base.max_file = inner->max_file;
    l->inner = inner;
    l->path = file;
    file = NULL;
    if (pl_fs_realpath(inner, l->path, &l->real) < 0)
        pl_error_clear();
    l->len = text.len;
    l->data = pl_buf_detach(&text);
    if (!l->data && !(l->data = pl_strdup(""))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    *out = &l->base;
    l = NULL;
done:
    if (l)
        layer_free(&l->base);
    pl_free(file);
    json_decref(docs);
    pl_buf_dispose(&raw);
    pl_buf_dispose(&text);
    return error;
}
