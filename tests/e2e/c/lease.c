/*
 * A leader-election contender on the C API, for tests/e2e/test_lease.py (run in the simulated
 * pod: KUBERNETES_SERVICE_HOST/PORT and INCLUSTER_SERVICEACCOUNT_DIR are set).
 *
 *   lease NAME IDENTITY LOG STOPFILE
 *
 * Appends "IDENTITY start|end UNIXTIME" lines to LOG for its leadership interval (8 s / 6 s /
 * 1 s), and exits after it: 0 when STOPFILE appeared (the Lease is released), 10 when
 * leadership was lost, 2 on an error.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "incluster.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int leading = 0;
static const char *identity;
static const char *log_path;

static void log_line(const char *what) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    FILE *f = fopen(log_path, "a");
    if (!f) return;
    fprintf(f, "%s %s %lld.%06ld\n", identity, what, (long long)ts.tv_sec, ts.tv_nsec / 1000);
    fclose(f);
}

static void on_started(void *u) {
    (void)u;
    pthread_mutex_lock(&mu);
    leading = 1;
    log_line("start");
    pthread_mutex_unlock(&mu);
}

static void on_stopped(void *u, const char *reason) {
    (void)u;
    pthread_mutex_lock(&mu);
    if (leading) log_line("end");
    leading = 0;
    pthread_mutex_unlock(&mu);
    fprintf(stderr, "%s: stopped leading: %s\n", identity, reason);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: lease NAME IDENTITY LOG STOPFILE\n");
        return 2;
    }
    identity = argv[2];
    log_path = argv[3];
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 2;
    }
    incluster_lease_params p = {argv[1], NULL, identity, 8000, 6000, 1000, 0};
    incluster_lease_callbacks cb = {on_started, on_stopped, NULL, NULL};
    incluster_lease *l = NULL;
    if (incluster_lease_start(c, &p, &cb, &l, &e) != INCLUSTER_OK ||
        incluster_lease_wait_leader(l, -1, &e) != INCLUSTER_OK) {
        fprintf(stderr, "lease: %s\n", e ? incluster_error_message(e) : "ended");
        incluster_error_free(e);
        incluster_lease_free(l);
        incluster_client_free(c);
        return 2;
    }
    int rc = 10;
    struct stat st;
    struct timespec tick = {0, 50 * 1000 * 1000};
    while (incluster_lease_is_leader(l)) {
        if (stat(argv[4], &st) == 0) {
            /* The interval ends before the release that the free makes. */
            pthread_mutex_lock(&mu);
            if (leading) log_line("end");
            leading = 0;
            pthread_mutex_unlock(&mu);
            rc = 0;
            break;
        }
        nanosleep(&tick, NULL);
    }
    incluster_lease_free(l);
    incluster_client_free(c);
    return rc;
}
