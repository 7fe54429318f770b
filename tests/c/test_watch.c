/*
 * Watch through the C API: the callback form, the pull form, cancel from another thread,
 * refused re-entrancy, bad options. Run by tests/c_api.rs (also under valgrind).
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

#define PATH "/api/v1/namespaces/cw/configmaps"

static void churn(incluster_client *c, int count, const char *prefix) {
    char body[128];
    snprintf(body, sizeof body, "{\"namespace\":\"cw\",\"count\":%d,\"prefix\":\"%s\"}", count,
             prefix);
    incluster_response *r = NULL;
    incluster_result rc = incluster_request(c, "POST", "/_control/churn", NULL,
                                            (const uint8_t *)body, strlen(body), NULL, &r, NULL);
    if (rc != INCLUSTER_OK) fprintf(stderr, "churn failed: %d\n", rc);
    incluster_response_free(r);
}

/* The list's metadata.resourceVersion (a tiny search; the test has no JSON parser). */
static void current_rv(incluster_client *c, char *out, size_t n) {
    incluster_response *r = NULL;
    out[0] = 0;
    if (incluster_get(c, PATH, &r, NULL) != INCLUSTER_OK) return;
    size_t len = 0;
    const char *b = (const char *)incluster_response_body(r, &len);
    const char *key = "\"resourceVersion\":\"";
    for (size_t i = 0; i + strlen(key) < len; i++) {
        if (strncmp(b + i, key, strlen(key)) == 0) {
            size_t j = i + strlen(key), k = 0;
            while (j < len && b[j] != '"' && k + 1 < n) out[k++] = b[j++];
            out[k] = 0;
            break;
        }
    }
    incluster_response_free(r);
}

struct counter {
    int events;
    int stop_after;
    char last_rv[64];
    incluster_watch_handle *self;
    incluster_result reentrant;
};

static int on_event(void *userdata, const incluster_watch_event *ev) {
    struct counter *c = userdata;
    if (strcmp(ev->type_, "ADDED") != 0 && strcmp(ev->type_, "MODIFIED") != 0 &&
        strcmp(ev->type_, "DELETED") != 0) {
        return INCLUSTER_STOP;
    }
    if (ev->object_len == 0 || ev->object[0] != '{') return INCLUSTER_STOP;
    char *name = NULL;
    if (incluster_watch_event_get_string(ev, "/metadata/name", &name, NULL) != INCLUSTER_OK ||
        (strncmp(name, "a-", 2) != 0 && strncmp(name, "b-", 2) != 0 &&
         strncmp(name, "c-", 2) != 0)) {
        incluster_string_free(name);
        return INCLUSTER_STOP;
    }
    incluster_string_free(name);
    snprintf(c->last_rv, sizeof c->last_rv, "%s", ev->resource_version);
    if (c->self) {
        /* Calling back into the same watch from its callback is refused, not a crash. */
        const incluster_watch_event *e2 = NULL;
        c->reentrant = incluster_watch_next(c->self, &e2, NULL);
        c->self = NULL;
    }
    c->events++;
    return c->events >= c->stop_after ? INCLUSTER_STOP : 42 * 0; /* 0 = continue */
}

struct cancel_arg {
    incluster_watch_handle *w;
};

static void *cancel_later(void *arg) {
    struct cancel_arg *a = arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    incluster_watch_cancel(a->w);
    return NULL;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }

    /* Callback form, from a known resourceVersion: 12 changes, stop after 10. */
    char start[64];
    current_rv(c, start, sizeof start);
    churn(c, 12, "a");
    struct counter cnt = {0, 10, "", NULL, INCLUSTER_OK};
    const char *from_start[] = {"resourceVersion", start, "incluster.backoffInitialMs", "5",
                                "incluster.backoffMaxMs", "50", NULL};
    incluster_result rc = incluster_watch(c, PATH, from_start, on_event, &cnt, &e);
    CHECK(rc == INCLUSTER_STOPPED, "callback stop gives INCLUSTER_STOPPED");
    CHECK(cnt.events == 10, "callback saw 10 events");
    CHECK(strlen(cnt.last_rv) > 0, "events carry a resourceVersion");
    incluster_error_free(e);
    e = NULL;

    /* Pull form with drops: resumes without losing events. */
    incluster_response *r = NULL;
    const char *drop = "{\"drop_every\":2,\"drop_mid_line\":true}";
    incluster_request(c, "PUT", "/_control/watch", NULL, (const uint8_t *)drop, strlen(drop),
                      NULL, &r, NULL);
    incluster_response_free(r);
    incluster_watch_handle *w = NULL;
    const char *from_now[] = {"resourceVersion",        cnt.last_rv, "incluster.backoffInitialMs",
                              "5",                      "incluster.backoffMaxMs", "50", NULL};
    rc = incluster_watch_open(c, PATH, from_now, &w, &e);
    CHECK(rc == INCLUSTER_OK && w != NULL, "watch_open");
    churn(c, 9, "b");
    int got = 0;
    char rv[64] = "";
    for (int i = 0; i < 11; i++) { /* 2 left from the first churn + 9 new */
        const incluster_watch_event *ev = NULL;
        if (incluster_watch_next(w, &ev, &e) != INCLUSTER_OK) break;
        if (strcmp(rv, ev->resource_version) >= 0 && strlen(rv) == strlen(ev->resource_version))
            break; /* not increasing */
        snprintf(rv, sizeof rv, "%s", ev->resource_version);
        got++;
    }
    CHECK(got == 11, "pull form: 11 events across drops, in order");
    char *resume = incluster_watch_resource_version(w);
    CHECK(resume != NULL && strcmp(resume, rv) == 0, "resource_version follows events");
    incluster_string_free(resume);

    /* Re-entrancy from a callback is refused. */
    churn(c, 1, "c");
    struct counter re = {0, 1, "", w, INCLUSTER_OK};
    rc = incluster_watch_run(w, on_event, &re, &e);
    CHECK(rc == INCLUSTER_STOPPED, "run stopped by callback");
    CHECK(re.reentrant == INCLUSTER_ERR_INVALID_ARGUMENT, "re-entrant next refused");

    /* Cancel from another thread while blocked. */
    const char *calm = "{\"drop_every\":0,\"bookmark_ms\":0}";
    incluster_request(c, "PUT", "/_control/watch", NULL, (const uint8_t *)calm, strlen(calm),
                      NULL, &r, NULL);
    incluster_response_free(r);
    pthread_t t;
    struct cancel_arg arg = {w};
    pthread_create(&t, NULL, cancel_later, &arg);
    const incluster_watch_event *ev = NULL;
    rc = incluster_watch_next(w, &ev, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "cancel unblocks a blocked next");
    incluster_error_free(e);
    e = NULL;
    incluster_watch_cancel(w); /* idempotent */
    incluster_watch_free(w);

    /* Bad input. */
    const char *bad[] = {"timeoutSeconds", "soon", NULL};
    rc = incluster_watch_open(c, PATH, bad, &w, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "bad option value");
    CHECK(strstr(incluster_error_message(e), "timeoutSeconds") != NULL, "error names the option");
    incluster_error_free(e);
    e = NULL;
    const char *odd[] = {"labelSelector", NULL};
    CHECK(incluster_watch_open(c, PATH, odd, &w, NULL) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "option without value");
    rc = incluster_watch_open(c, "/api/v1/namespaces/x/nothing", NULL, &w, &e);
    CHECK(rc == INCLUSTER_ERR_NOT_FOUND, "a watch that cannot start: 404");
    incluster_error_free(e);
    CHECK(incluster_watch(c, PATH, NULL, NULL, NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL callback");
    CHECK(incluster_watch_next(NULL, &ev, NULL) == INCLUSTER_ERR_NULL_ARGUMENT, "NULL watch");
    incluster_watch_cancel(NULL);
    incluster_watch_free(NULL);
    CHECK(strcmp(incluster_result_name(INCLUSTER_END), "INCLUSTER_END") == 0, "END name");

    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
