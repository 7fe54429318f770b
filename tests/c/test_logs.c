/*
 * Pod logs through the C API: callback form, pull form following to the container's end,
 * resume across drops, cancel from another thread, errors. Run by tests/c_api.rs (also under
 * valgrind).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incluster.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond, name)                                                       \
    do {                                                                        \
        if (cond) {                                                             \
            passed++;                                                           \
        } else {                                                                \
            failed++;                                                           \
            fprintf(stderr, "not ok - %s (%s:%d)\n", name, __FILE__, __LINE__); \
        }                                                                       \
    } while (0)

static void control(incluster_client *c, const char *method, const char *path, const char *body) {
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    if (incluster_request(c, method, path, NULL, (const uint8_t *)body, strlen(body), NULL, &r,
                          &e) != INCLUSTER_OK) {
        fprintf(stderr, "control %s %s failed: %s\n", method, path, incluster_error_message(e));
    }
    incluster_error_free(e);
    incluster_response_free(r);
}

struct lines {
    int n;
    int stop_at;
    char first[32];
};

static int on_line(void *ud, const uint8_t *line, size_t len) {
    struct lines *l = ud;
    if (l->n == 0) snprintf(l->first, sizeof l->first, "%.*s", (int)len, (const char *)line);
    l->n++;
    return l->stop_at && l->n >= l->stop_at ? INCLUSTER_STOP : INCLUSTER_CONTINUE;
}

static void *cancel_later(void *arg) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    incluster_logs_cancel(arg);
    return NULL;
}

static long seq_of(const uint8_t *line, size_t len) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), (const char *)line);
    const char *p = strstr(buf, "seq=");
    return p ? atol(p + 4) : -1;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    control(c, "POST", "/_control/pods",
            "{\"namespace\":\"cl\",\"name\":\"p\",\"containers\":[\"app\"]}");
    control(c, "POST", "/_control/logs/generate",
            "{\"namespace\":\"cl\",\"pod\":\"p\",\"container\":\"app\",\"count\":40,\"size\":50}");

    /* Callback form, whole log; then stopping early. */
    struct lines l = {0, 0, ""};
    incluster_result rc = incluster_logs(c, "cl", "p", NULL, on_line, &l, &e);
    CHECK(rc == INCLUSTER_END, "whole log ends with INCLUSTER_END");
    CHECK(l.n == 40, "40 lines");
    CHECK(strncmp(l.first, "gen seq=0000000001", 18) == 0, "first line content");
    struct lines some = {0, 5, ""};
    const char *tail[] = {"tailLines", "10", NULL};
    rc = incluster_logs(c, NULL, "p", tail, on_line, &some, &e); /* NULL: client's namespace */
    CHECK(rc == INCLUSTER_ERR_NOT_FOUND, "NULL namespace is the client's (no pod there)");
    incluster_error_free(e);
    e = NULL;
    rc = incluster_logs(c, "cl", "p", tail, on_line, &some, &e);
    CHECK(rc == INCLUSTER_STOPPED && some.n == 5, "callback stop");

    /* Pull form, following across drops, to the container's end: a follow resumes by
       default (no incluster.resume), as in Python and the CLI. */
    control(c, "PUT", "/_control/logs/faults", "{\"drop_every\":7,\"drop_mid_line\":true}");
    const char *follow[] = {"follow", "true", "incluster.backoffInitialMs", "5",
                            "incluster.backoffMaxMs", "50", NULL};
    incluster_logs_handle *h = NULL;
    rc = incluster_logs_open(c, "cl", "p", follow, &h, &e);
    CHECK(rc == INCLUSTER_OK, "logs_open follow");
    control(c, "POST", "/_control/logs/generate",
            "{\"namespace\":\"cl\",\"pod\":\"p\",\"container\":\"app\",\"count\":30,\"size\":50}");
    long expect = 1;
    int in_order = 1;
    for (int i = 0; i < 70; i++) {
        const uint8_t *line = NULL;
        size_t len = 0;
        if (incluster_logs_next(h, &line, &len, &e) != INCLUSTER_OK) {
            in_order = 0;
            break;
        }
        if (seq_of(line, len) != expect++) in_order = 0;
    }
    CHECK(in_order && expect == 71, "70 lines in order across drops, none repeated");
    control(c, "PUT", "/_control/pods/cl/p/state", "{\"container\":\"app\",\"state\":\"terminated\"}");
    const uint8_t *line = NULL;
    size_t len = 0;
    CHECK(incluster_logs_next(h, &line, &len, &e) == INCLUSTER_END, "termination ends the follow");
    incluster_logs_free(h);

    /* Cancel while blocked. */
    control(c, "POST", "/_control/pods",
            "{\"namespace\":\"cl\",\"name\":\"q\",\"containers\":[\"app\"]}");
    rc = incluster_logs_open(c, "cl", "q", follow, &h, &e);
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, h);
    rc = incluster_logs_next(h, &line, &len, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "cancel unblocks");
    incluster_error_free(e);
    e = NULL;
    incluster_logs_free(h);

    /* Errors. */
    control(c, "POST", "/_control/pods",
            "{\"namespace\":\"cl\",\"name\":\"two\",\"containers\":[\"a\",\"b\"]}");
    const char *ghost[] = {"container", "ghost", NULL};
    rc = incluster_logs_open(c, "cl", "two", ghost, &h, &e);
    CHECK(rc == INCLUSTER_ERR_API && incluster_error_status(e) == 400, "unknown container 400");
    CHECK(strstr(incluster_error_message(e), "the pod's containers: a, b") != NULL,
          "message lists the containers");
    incluster_error_free(e);
    e = NULL;
    const char *bad[] = {"tailLines", "many", NULL};
    CHECK(incluster_logs_open(c, "cl", "p", bad, &h, NULL) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "bad option");
    CHECK(incluster_logs(c, "cl", "p", NULL, NULL, NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL callback");
    incluster_logs_cancel(NULL);
    incluster_logs_free(NULL);

    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
