/*
 * Leader election through the C API: callbacks, waiting for leadership, takeover after a
 * release, cancel from another thread, loss when the API server goes away, wait timeout,
 * 403 without RBAC, bad settings. Run by tests/c_api.rs (also under valgrind and ASan).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* What the callbacks saw; they run on the election's thread. */
struct seen {
    pthread_mutex_t mu;
    int started;
    int stopped;
    char reason[512];
    char leader[128];
};

static void on_started(void *u) {
    struct seen *s = u;
    pthread_mutex_lock(&s->mu);
    s->started++;
    pthread_mutex_unlock(&s->mu);
}

static void on_stopped(void *u, const char *reason) {
    struct seen *s = u;
    pthread_mutex_lock(&s->mu);
    s->stopped++;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
    pthread_mutex_unlock(&s->mu);
}

static void on_new_leader(void *u, const char *id) {
    struct seen *s = u;
    pthread_mutex_lock(&s->mu);
    snprintf(s->leader, sizeof s->leader, "%s", id);
    pthread_mutex_unlock(&s->mu);
}

static void faults(incluster_client *c, const char *json) {
    incluster_response *r = NULL;
    incluster_request(c, "PUT", "/_control/leases", NULL, (const uint8_t *)json, strlen(json),
                      NULL, &r, NULL);
    incluster_response_free(r);
}

/* Durations that hold under valgrind, which slows every renewal down. */
static incluster_lease_params fast(const char *name, const char *identity) {
    incluster_lease_params p = {name, NULL, identity, 15000, 10000, 300, 0};
    return p;
}

static void *cancel_later(void *lease) {
    incluster_lease_cancel(lease);
    return NULL;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }

    /* A leads. */
    struct seen sa = {PTHREAD_MUTEX_INITIALIZER, 0, 0, "", ""};
    incluster_lease_callbacks cba = {on_started, on_stopped, on_new_leader, &sa};
    incluster_lease_params pa = fast("lock", "c-a");
    incluster_lease *a = NULL;
    CHECK(incluster_lease_start(c, &pa, &cba, &a, &e) == INCLUSTER_OK, "start A");
    CHECK(incluster_lease_wait_leader(a, 30000, &e) == INCLUSTER_OK, "A leads");
    CHECK(incluster_lease_is_leader(a), "A is the leader");
    CHECK(strcmp(incluster_lease_identity(a), "c-a") == 0, "A's identity");
    pthread_mutex_lock(&sa.mu);
    CHECK(sa.started == 1, "on_started once");
    if (sa.started != 1) fprintf(stderr, "on_started ran %d times\n", sa.started);
    CHECK(strcmp(sa.leader, "c-a") == 0, "on_new_leader names A");
    pthread_mutex_unlock(&sa.mu);

    /* B (default identity, 60 s lease) waits while A leads. */
    struct seen sb = {PTHREAD_MUTEX_INITIALIZER, 0, 0, "", ""};
    incluster_lease_callbacks cbb = {on_started, on_stopped, on_new_leader, &sb};
    incluster_lease_params pb = {"lock", NULL, NULL, 60000, 4000, 300, 0};
    incluster_lease *b = NULL;
    CHECK(incluster_lease_start(c, &pb, &cbb, &b, &e) == INCLUSTER_OK, "start B");
    CHECK(strchr(incluster_lease_identity(b), '_') != NULL, "default identity host_suffix");
    CHECK(incluster_lease_wait_leader(b, 500, &e) == INCLUSTER_ERR_TIMEOUT, "B waits");
    CHECK(e && incluster_error_code(e) == INCLUSTER_ERR_TIMEOUT, "timeout error");
    incluster_error_free(e);
    e = NULL;
    CHECK(!incluster_lease_is_leader(b), "B is not the leader");

    /* A wait timeout gives up (C, 1 s). */
    incluster_lease_params pc = fast("lock", "c-c");
    pc.wait_timeout_ms = 1000;
    incluster_lease *cc = NULL;
    incluster_lease_outcome out = 0;
    CHECK(incluster_lease_start(c, &pc, NULL, &cc, &e) == INCLUSTER_OK, "start C");
    CHECK(incluster_lease_wait_leader(cc, 30000, &e) == INCLUSTER_END, "C gives up");
    CHECK(incluster_lease_wait(cc, 30000, &out, &e) == INCLUSTER_OK, "C's wait");
    CHECK(out == INCLUSTER_LEASE_WAIT_TIMED_OUT, "C timed out");
    incluster_lease_free(cc);

    /* A is cancelled from another thread: it releases, B takes over without waiting 60 s. */
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, a);
    pthread_join(t, NULL);
    CHECK(incluster_lease_wait(a, 30000, &out, &e) == INCLUSTER_OK, "A ends");
    CHECK(out == INCLUSTER_LEASE_RELEASED, "A released");
    if (out != INCLUSTER_LEASE_RELEASED) fprintf(stderr, "A ended with %d: %s\n", out, sa.reason);
    CHECK(!incluster_lease_is_leader(a), "A no longer leads");
    pthread_mutex_lock(&sa.mu);
    CHECK(sa.stopped == 1 && strcmp(sa.reason, "released the Lease") == 0, "A on_stopped");
    pthread_mutex_unlock(&sa.mu);
    CHECK(incluster_lease_wait_leader(b, 30000, &e) == INCLUSTER_OK, "B takes over");
    incluster_lease_free(a);

    /* B loses leadership when the API server goes away past the renew deadline. */
    faults(c, "{\"unavailable\":true}");
    CHECK(incluster_lease_wait(b, 30000, &out, &e) == INCLUSTER_OK, "B ends");
    CHECK(out == INCLUSTER_LEASE_LOST, "B lost");
    CHECK(!incluster_lease_is_leader(b), "B no longer leads");
    pthread_mutex_lock(&sb.mu);
    CHECK(sb.stopped == 1 && strstr(sb.reason, "renew deadline") != NULL, "B says why");
    pthread_mutex_unlock(&sb.mu);
    faults(c, "{\"unavailable\":false}");
    incluster_lease_free(b);

    /* 403: a clear error naming the verb and resource. */
    faults(c, "{\"forbidden\":true}");
    incluster_lease_params pd = fast("other", "c-d");
    incluster_lease *d = NULL;
    CHECK(incluster_lease_start(c, &pd, NULL, &d, &e) == INCLUSTER_OK, "start D");
    CHECK(incluster_lease_wait_leader(d, 30000, &e) == INCLUSTER_ERR_FORBIDDEN, "D forbidden");
    CHECK(e && strstr(incluster_error_message(e),
                      "cannot get leases.coordination.k8s.io in namespace c-ns") != NULL,
          "403 names verb, resource and namespace");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_lease_wait(d, 30000, &out, &e) == INCLUSTER_ERR_FORBIDDEN, "wait: 403");
    incluster_error_free(e);
    e = NULL;
    incluster_lease_free(d);
    faults(c, "{\"forbidden\":false}");

    /* Bad settings and NULLs. */
    incluster_lease_params bad = fast("lock", "x");
    bad.lease_duration_ms = 2000;
    bad.renew_deadline_ms = 2000;
    incluster_lease *x = NULL;
    CHECK(incluster_lease_start(c, &bad, NULL, &x, &e) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "lease duration <= renew deadline");
    CHECK(e && strstr(incluster_error_message(e), "lease duration (2s)") != NULL,
          "names the value");
    CHECK(x == NULL, "no output on failure");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_lease_start(c, NULL, NULL, &x, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL params");
    incluster_lease_params noname = fast(NULL, "x");
    CHECK(incluster_lease_start(c, &noname, NULL, &x, &e) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL name");
    CHECK(e && strstr(incluster_error_message(e), "params->name") != NULL, "names the field");
    incluster_error_free(e);
    e = NULL;
    CHECK(!incluster_lease_is_leader(NULL), "is_leader(NULL)");
    CHECK(incluster_lease_identity(NULL) == NULL, "identity(NULL)");
    CHECK(incluster_lease_wait(NULL, 0, &out, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "wait(NULL)");
    incluster_lease_cancel(NULL);
    incluster_lease_free(NULL);

    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
