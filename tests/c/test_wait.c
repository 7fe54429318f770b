/*
 * incluster_wait through the C API: met (and which --for-any condition), a failure condition,
 * the timeout, an object created while waiting, a selection, cancel from another thread, bad
 * input. Run by tests/c_api.rs (also under ASan and valgrind).
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

#define COLL "/api/v1/namespaces/cwait/configmaps"

static void create(incluster_client *c, const char *body) {
    incluster_response *r = NULL;
    incluster_result rc = incluster_request(c, "POST", COLL, NULL, (const uint8_t *)body,
                                            strlen(body), NULL, &r, NULL);
    if (rc != INCLUSTER_OK) fprintf(stderr, "create failed: %s\n", incluster_result_name(rc));
    incluster_response_free(r);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

struct later {
    incluster_client *c;
    incluster_canceller *cancel;
};

static void *create_later(void *arg) {
    struct later *l = arg;
    sleep_ms(200);
    create(l->c, "{\"metadata\":{\"name\":\"later\"},\"data\":{\"k\":\"v\"}}");
    return NULL;
}

static void *cancel_later(void *arg) {
    struct later *l = arg;
    sleep_ms(300);
    incluster_canceller_cancel(l->cancel);
    return NULL;
}

/* Whether object `i` of `r` has metadata.name `name`. */
static int named(const incluster_wait_result *r, size_t i, const char *name) {
    size_t len = 0;
    const uint8_t *obj = incluster_wait_result_object(r, i, &len);
    char *got = NULL;
    int ok = obj != NULL &&
             incluster_json_get_string(obj, len, "/metadata/name", &got, NULL) == INCLUSTER_OK &&
             strcmp(got, name) == 0;
    incluster_string_free(got);
    return ok;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    create(c, "{\"metadata\":{\"name\":\"done\",\"labels\":{\"app\":\"c\"}},"
              "\"status\":{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}");
    create(c, "{\"metadata\":{\"name\":\"failed\",\"labels\":{\"app\":\"c\"}},"
              "\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\"}]}}");

    /* Met, and which --for-any condition held. */
    incluster_wait_result *r = NULL;
    const char *any[] = {"forAny", "condition=Failed", "forAny", "condition=Complete", NULL};
    incluster_result rc = incluster_wait(c, COLL "/done", any, NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK, "met");
    CHECK(incluster_wait_result_count(r) == 1, "one object");
    CHECK(named(r, 0, "done"), "the object that met it");
    const char *met = incluster_wait_result_met(r, 0, 0);
    CHECK(met != NULL && strcmp(met, "condition=Complete=True") == 0, "which condition held");
    CHECK(incluster_wait_result_met(r, 0, 1) == NULL, "only that one");
    CHECK(incluster_wait_result_object(r, 1, NULL) == NULL, "index out of range");
    incluster_wait_result_free(r);
    r = NULL;

    /* A failure condition: can no longer be met. */
    const char *fail[] = {"forAny", "condition=Complete", "failOn", "condition=Failed", NULL};
    rc = incluster_wait(c, COLL "/failed", fail, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_UNMEETABLE, "failOn gives INCLUSTER_ERR_UNMEETABLE");
    CHECK(r == NULL, "no result on failure");
    CHECK(e != NULL && strstr(incluster_error_message(e), "condition=Failed=True") != NULL,
          "the message names the failure condition");
    incluster_error_free(e);
    e = NULL;

    /* The timeout. */
    const char *slow[] = {"for", "condition=Ready", "timeoutMs", "200", NULL};
    rc = incluster_wait(c, COLL "/done", slow, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_WAIT_TIMEOUT, "timeout gives INCLUSTER_ERR_WAIT_TIMEOUT");
    CHECK(strcmp(incluster_result_name(rc), "INCLUSTER_ERR_WAIT_TIMEOUT") == 0, "its name");
    incluster_error_free(e);
    e = NULL;

    /* An object created while waiting. */
    struct later l = {c, NULL};
    pthread_t t;
    pthread_create(&t, NULL, create_later, &l);
    const char *created[] = {"for", "jsonpath={.data.k}=v", "timeoutMs", "30000",
                             "incluster.backoffInitialMs", "5", NULL};
    rc = incluster_wait(c, COLL "/later", created, NULL, &r, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_OK && named(r, 0, "later"), "an object created later is waited for");
    incluster_wait_result_free(r);
    r = NULL;

    /* A selection: every object it picks. */
    const char *sel[] = {"labelSelector", "app=c", "for", "create", NULL};
    rc = incluster_wait(c, COLL, sel, NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK && incluster_wait_result_count(r) == 2, "selection of two");
    CHECK(named(r, 0, "done") && named(r, 1, "failed"), "both objects");
    incluster_wait_result_free(r);
    r = NULL;

    /* Cancel from another thread while blocked (no timeout). */
    CHECK(incluster_canceller_new(&l.cancel, NULL) == INCLUSTER_OK, "canceller_new");
    pthread_create(&t, NULL, cancel_later, &l);
    const char *forever[] = {"for", "condition=Ready", NULL};
    rc = incluster_wait(c, COLL "/done", forever, l.cancel, &r, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "cancel unblocks the wait");
    incluster_error_free(e);
    e = NULL;
    rc = incluster_wait(c, COLL "/done", forever, l.cancel, &r, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "a cancelled canceller stops the next call at once");
    incluster_canceller_cancel(l.cancel); /* idempotent */
    incluster_canceller_free(l.cancel);

    /* Bad input. */
    rc = incluster_wait(c, COLL "/done", NULL, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "no condition");
    CHECK(strstr(incluster_error_message(e), "no condition") != NULL, "says so");
    incluster_error_free(e);
    e = NULL;
    const char *bad[] = {"for", "ready", NULL};
    rc = incluster_wait(c, COLL "/done", bad, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "bad condition");
    CHECK(strstr(incluster_error_message(e), "\"ready\"") != NULL, "names it");
    incluster_error_free(e);
    e = NULL;
    const char *create_only[] = {"for", "create", NULL};
    rc = incluster_wait(c, "deploymnet/web", create_only, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT &&
              strstr(incluster_error_message(e), "did you mean deployments.apps?") != NULL,
          "an unknown resource name");
    incluster_error_free(e);
    e = NULL;
    const char *odd[] = {"for", NULL};
    CHECK(incluster_wait(c, COLL, odd, NULL, &r, NULL) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "option without value");
    CHECK(incluster_wait(NULL, COLL, create_only, NULL, &r, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL client");
    CHECK(incluster_wait(c, NULL, create_only, NULL, &r, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL target");
    CHECK(incluster_wait(c, COLL, create_only, NULL, NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL out");
    CHECK(incluster_canceller_new(NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT, "NULL canceller out");
    CHECK(incluster_wait_result_count(NULL) == 0, "count(NULL)");
    size_t len = 7;
    CHECK(incluster_wait_result_object(NULL, 0, &len) == NULL && len == 0, "object(NULL)");
    CHECK(incluster_wait_result_met(NULL, 0, 0) == NULL, "met(NULL)");
    incluster_wait_result_free(NULL);
    incluster_canceller_cancel(NULL);
    incluster_canceller_free(NULL);

    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
