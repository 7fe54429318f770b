/*
 * Keep-alive GET latency through the C API: one client, N sequential GETs on one pooled
 * connection, each timed with CLOCK_MONOTONIC. Prints one JSON line with p50/p99 in microseconds.
 * Usage: keepalive PATH N   (in a simulated pod: KUBERNETES_SERVICE_* and the SA dir set)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "incluster.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/version";
    int n = argc > 2 ? atoi(argv[2]) : 2000;
    if (n <= 0) n = 2000;
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        incluster_error_free(e);
        return 1;
    }
    double *us = malloc(sizeof(double) * (size_t)n);
    if (us == NULL) return 1;
    int ok = 0;
    for (int i = -200; i < n; i++) { /* 200 warm-up calls, not recorded */
        struct timespec a, b;
        incluster_response *r = NULL;
        clock_gettime(CLOCK_MONOTONIC, &a);
        incluster_result rc = incluster_get(c, path, &r, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (i >= 0) {
            us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
            if (rc == INCLUSTER_OK && incluster_response_status(r) == 200) ok++;
        }
        incluster_response_free(r);
    }
    qsort(us, (size_t)n, sizeof(double), cmp);
    printf("{\"n\":%d,\"ok\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", n, ok, us[n / 2],
           us[(n * 99) / 100]);
    free(us);
    incluster_client_free(c);
    return ok == n ? 0 : 1;
}
