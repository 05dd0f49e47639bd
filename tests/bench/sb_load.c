/*
 * sb_load.c - a small HTTPS load generator for bench_sandbox.sh: C threads, each with one
 * libcurl easy handle (so one kept-alive TLS connection), share N GET requests of one URL.
 *
 *   sb_load URL -n N -c C [--cacert FILE] [--token-file FILE]
 *
 * Prints "requests N errors E seconds S rate R/s" (R = successful 2xx responses per second).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static const char *url, *cacert;
static char auth[512];
static long total;
static atomic_long next_req, ok_count, err_count;

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

static void *worker(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (auth[0])
        h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    while (atomic_fetch_add(&next_req, 1) < total) {
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code >= 200 &&
            code < 300)
            atomic_fetch_add(&ok_count, 1);
        else
            atomic_fetch_add(&err_count, 1);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

int main(int argc, char **argv)
{
    long conc = 8;
    total = 10000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            total = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            conc = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cacert") && i + 1 < argc)
            cacert = argv[++i];
        else if (!strcmp(argv[i], "--token-file") && i + 1 < argc) {
            FILE *f = fopen(argv[++i], "r");
            char tok[400] = "";
            if (f == NULL || fgets(tok, sizeof(tok), f) == NULL) {
                fprintf(stderr, "sb_load: cannot read token file\n");
                return 2;
            }
            fclose(f);
            tok[strcspn(tok, "\r\n")] = '\0';
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
        } else if (url == NULL && argv[i][0] != '-')
            url = argv[i];
        else {
            fprintf(stderr, "usage: sb_load URL -n N -c C [--cacert FILE] [--token-file FILE]\n");
            return 2;
        }
    }
    if (url == NULL || total <= 0 || conc <= 0 || conc > 1024) {
        fprintf(stderr, "usage: sb_load URL -n N -c C [--cacert FILE] [--token-file FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_t *th = calloc((size_t)conc, sizeof(*th));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < conc; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (long i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(th);
    curl_global_cleanup();
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long okc = atomic_load(&ok_count), errc = atomic_load(&err_count);
    printf("requests %ld errors %ld seconds %.3f rate %.0f/s\n", okc + errc, errc, secs,
           secs > 0 ? (double)okc / secs : 0.0);
    return errc > 0 ? 1 : 0;
}
