/*
 * fuzz_kustomization.c - arbitrary bytes as a kustomization, built by pl_kustomize_build.
 *
 * The input is split at the first line "#---\n": the part before is kustomization.yaml, the
 * part after (if any) is extra.yaml. The tree also holds fixed files the input can name
 * (deployment.yaml, service.yaml, patch.yaml, config.properties, .env) so generators, patches
 * and name references get exercised. Remote resources are off (no fetch callback) and the
 * load restrictor is the default, so nothing outside the temporary tree is read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static const char deployment[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: web\n"
    "  labels: {app: web}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  selector:\n"
    "    matchLabels: {app: web}\n"
    "  template:\n"
    "    metadata:\n"
    "      labels: {app: web}\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: web\n"
    "        image: nginx:1.25\n"
    "        envFrom:\n"
    "        - configMapRef: {name: cfg}\n"
    "        volumeMounts:\n"
    "        - {name: data, mountPath: /data}\n"
    "      volumes:\n"
    "      - name: data\n"
    "        secret: {secretName: creds}\n";

static const char service[] = "apiVersion: v1\n"
                              "kind: Service\n"
                              "metadata:\n"
                              "  name: web\n"
                              "spec:\n"
                              "  selector: {app: web}\n"
                              "  ports:\n"
                              "  - port: 80\n"
                              "    targetPort: 8080\n";

static const char patch[] = "apiVersion: apps/v1\n"
                            "kind: Deployment\n"
                            "metadata:\n"
                            "  name: web\n"
                            "spec:\n"
                            "  replicas: 3\n";

static int write_file(const char *name, const void *data, size_t len)
{
    char path[256];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", root, name);
    if (!(f = fopen(path, "wb")))
        return -1;
    n = fwrite(data, 1, len, f);
    fclose(f);
    return n == len ? 0 : -1;
}

static void remove_tree(void)
{
    static const char *const files[] = {"kustomization.yaml", "extra.yaml", "deployment.yaml",
                                        "service.yaml", "patch.yaml", "config.properties",
                                        ".env", NULL};
    char path[256];

    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, files[i]);
        unlink(path);
    }
    rmdir(root);
}

static int setup(void)
{
    snprintf(root, sizeof(root), "/tmp/plumb-fuzz-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    atexit(remove_tree);
    if (write_file("deployment.yaml", deployment, sizeof(deployment) - 1) < 0 ||
        write_file("service.yaml", service, sizeof(service) - 1) < 0 ||
        write_file("patch.yaml", patch, sizeof(patch) - 1) < 0 ||
        write_file("config.properties", "a=1\nb=two\n", 10) < 0 ||
        write_file(".env", "X=1\n", 4) < 0)
        return -1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const uint8_t *split = NULL;
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    pl_fs *fs = NULL;
    json_t *out = NULL;
    size_t klen = size;

    if (!ready) {
        if (setup() < 0)
            abort();
        ready = 1;
    }
    for (size_t i = 0; i + 5 <= size; i++) {
        if ((i == 0 || data[i - 1] == '\n') && !memcmp(data + i, "#---\n", 5)) {
            split = data + i + 5;
            klen = i;
            break;
        }
    }
    if (write_file("kustomization.yaml", data, klen) < 0)
        abort();
    if (!split)
        split = data + size; /* no extra part: an empty extra.yaml */
    if (write_file("extra.yaml", split, size - (size_t)(split - data)) < 0)
        abort();
    if (pl_fs_dir_new(&fs) < 0)
        abort();
    if (pl_kustomize_build(&out, fs, root, &opts) == 0) {
        pl_buf buf = PL_BUF_INIT;
        /* the printed form of whatever was built must be producible */
        (void)pl_yaml_emit_stream(&buf, out);
        pl_buf_dispose(&buf);
    }
    json_decref(out);
    pl_fs_free(fs);
    return 0;
}
