/*
 * standalone.c - replays fuzz inputs without libFuzzer (gcc builds, ctest label "fuzz").
 *
 * Every argument is a file or a directory of files; each file is fed once to
 * LLVMFuzzerTestOneInput, in name order. A crash or an abort() in the target fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plumb/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    pl_buf b = PL_BUF_INIT;
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        pl_buf_put(&b, chunk, n);
    fclose(f);
    /* a copy of exactly the input's size, so ASan sees reads past the end */
    {
        uint8_t *copy = pl_malloc(b.len ? b.len : 1);
        if (!copy)
            return -1;
        if (b.len)
            memcpy(copy, b.ptr, b.len);
        LLVMFuzzerTestOneInput(copy, b.len);
        pl_free(copy);
    }
    pl_buf_dispose(&b);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int failed = 0;

    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "%s: not found\n", argv[a]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[a]);
            struct dirent *e;
            char **names = NULL;
            size_t n = 0, cap = 0;
            while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 32;
                    names = pl_realloc(names, cap * sizeof(*names));
                    if (!names)
                        return 1;
                }
                names[n++] = pl_strdup(e->d_name);
            }
            if (d)
                closedir(d);
            if (n)
                qsort(names, n, sizeof(*names), name_cmp);
            for (size_t i = 0; i < n; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]);
                failed |= run_file(path) < 0;
                count++;
                pl_free(names[i]);
            }
            pl_free(names);
        } else {
            failed |= run_file(argv[a]) < 0;
            count++;
        }
    }
    printf("%zu inputs replayed\n", count);
    return failed || count == 0;
}
