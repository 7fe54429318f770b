/*
 * Misuse of the C API, each with its documented behaviour (see "C API conventions" in the
 * README): NULL for every pointer, invalid UTF-8, lengths beyond what a slice may hold,
 * callbacks returning unexpected values, callbacks calling back into the library, and a client
 * freed while another thread watches with it. Run by tests/c_api.rs, also under valgrind and
 * as an ASan + UBSan build.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
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

#define NUL INCLUSTER_ERR_NULL_ARGUMENT
#define INV INCLUSTER_ERR_INVALID_ARGUMENT
#define UTF8 INCLUSTER_ERR_INVALID_UTF8
#define COLL "/api/v1/namespaces/mis/configmaps"

/* The error's message contains `needle` (and the error is freed). */
static int says(incluster_error *e, const char *needle) {
    int ok = e != NULL && strstr(incluster_error_message(e), needle) != NULL;
    if (!ok) fprintf(stderr, "  message: %s\n", e ? incluster_error_message(e) : "(no error)");
    incluster_error_free(e);
    return ok;
}

static void null_arguments(incluster_client *c) {
    incluster_error *e = NULL;
    incluster_response *r = NULL;
    incluster_config *cfg = NULL;
    char *s = NULL;
    bool b = false;
    int64_t i = 0;
    size_t len = 0;
    const uint8_t *line = NULL;
    const incluster_watch_event *ev = NULL;
    const uint8_t json[] = "{\"a\":1}";

    /* Every out/err pointer NULL where the function needs it; err == NULL is always allowed. */
    CHECK(incluster_client_new_in_cluster(NULL, NULL) == NUL, "client_new_in_cluster(NULL)");
    incluster_client *c2 = NULL;
    CHECK(incluster_client_new(NULL, &c2, &e) == NUL && says(e, "config") && c2 == NULL,
          "client_new(NULL config) names the argument");
    e = NULL;
    CHECK(incluster_config_new(NULL, &cfg, &e) == NUL && says(e, "server"),
          "config_new(NULL server)");
    e = NULL;
    CHECK(incluster_config_new("https://127.0.0.1:1", NULL, NULL) == NUL, "config_new(NULL out)");
    CHECK(incluster_config_in_cluster(NULL, NULL, NULL) == NUL, "config_in_cluster(NULL out)");
    CHECK(incluster_config_set_token(NULL, "t", NULL) == NUL, "config_set_token(NULL config)");
    CHECK(incluster_config_set_token_file(NULL, "/x", NULL) == NUL, "set_token_file(NULL)");
    CHECK(incluster_config_clear_token(NULL, NULL) == NUL, "clear_token(NULL)");
    CHECK(incluster_config_set_ca_file(NULL, "/x", NULL) == NUL, "set_ca_file(NULL)");
    CHECK(incluster_config_set_ca_pem(NULL, json, 1, NULL) == NUL, "set_ca_pem(NULL)");
    CHECK(incluster_config_set_namespace(NULL, "n", NULL) == NUL, "set_namespace(NULL)");
    CHECK(incluster_config_set_timeouts(NULL, 1, 1, NULL) == NUL, "set_timeouts(NULL)");
    CHECK(incluster_config_set_rate_limit(NULL, 1, 1, NULL) == NUL, "set_rate_limit(NULL)");
    CHECK(incluster_config_danger_insecure_skip_tls_verify(NULL, NULL) == NUL, "insecure(NULL)");

    CHECK(incluster_request(NULL, "GET", "/version", NULL, NULL, 0, NULL, &r, NULL) == NUL,
          "request(NULL client)");
    CHECK(incluster_request(c, NULL, "/version", NULL, NULL, 0, NULL, &r, &e) == NUL &&
              says(e, "method"),
          "request(NULL method) names it");
    e = NULL;
    CHECK(incluster_request(c, "GET", NULL, NULL, NULL, 0, NULL, &r, NULL) == NUL,
          "request(NULL path)");
    CHECK(incluster_request(c, "GET", "/version", NULL, NULL, 0, NULL, NULL, NULL) == NUL,
          "request(NULL out)");
    incluster_result rc = incluster_request(c, "POST", COLL, NULL, NULL, 5, NULL, &r, &e);
    if (rc != NUL) fprintf(stderr, "  got %s\n", incluster_result_name(rc));
    CHECK(rc == NUL && says(e, "body"), "request(NULL body with a length)");
    e = NULL;
    CHECK(r == NULL, "no response written on a refused call");
    CHECK(incluster_get(c, NULL, &r, NULL) == NUL && incluster_get(c, "/v", NULL, NULL) == NUL,
          "get(NULL path / out)");
    CHECK(incluster_patch(c, NULL, INCLUSTER_PATCH_MERGE, json, 7, NULL, false, &r, NULL) == NUL,
          "patch(NULL path)");
    CHECK(incluster_whoami(c, NULL, NULL) == NUL && incluster_whoami(NULL, &s, NULL) == NUL,
          "whoami(NULL)");
    CHECK(incluster_can_i(c, NULL, "pods", NULL, NULL, NULL, &b, NULL, NULL) == NUL &&
              incluster_can_i(c, "get", "pods", NULL, NULL, NULL, NULL, NULL, NULL) == NUL,
          "can_i(NULL verb / allowed)");

    CHECK(incluster_json_get_string(NULL, 3, "/a", &s, NULL) == NUL, "json_get_string(NULL)");
    CHECK(incluster_json_get_string(json, 7, NULL, &s, NULL) == NUL, "json pointer NULL");
    CHECK(incluster_json_get_int(json, 7, "/a", NULL, NULL) == NUL, "json_get_int(NULL out)");
    CHECK(incluster_json_get_bool(json, 7, "/a", NULL, NULL) == NUL, "json_get_bool(NULL)");
    CHECK(incluster_jsonpath(json, 7, NULL, &s, NULL) == NUL, "jsonpath(NULL template)");
    CHECK(incluster_response_get_string(NULL, "/a", &s, NULL) == NUL, "response_get(NULL)");
    CHECK(incluster_watch_event_get_string(NULL, "/a", &s, NULL) == NUL, "event_get(NULL)");
    /* NULL with length 0 is an empty buffer: not JSON. */
    CHECK(incluster_json_get_int(NULL, 0, "", &i, NULL) == INCLUSTER_ERR_DECODE,
          "json NULL with length 0 is empty input");

    CHECK(incluster_watch_open(c, NULL, NULL, NULL, NULL) == NUL, "watch_open(NULL path)");
    CHECK(incluster_watch_next(NULL, &ev, NULL) == NUL, "watch_next(NULL)");
    CHECK(incluster_watch_run(NULL, NULL, NULL, NULL) == NUL, "watch_run(NULL)");
    CHECK(incluster_watch(c, COLL, NULL, NULL, NULL, NULL) == NUL, "watch(NULL callback)");
    CHECK(incluster_logs_open(c, NULL, NULL, NULL, NULL, NULL) == NUL, "logs_open(NULL pod)");
    CHECK(incluster_logs_next(NULL, &line, &len, NULL) == NUL, "logs_next(NULL)");
    CHECK(incluster_logs(c, NULL, "p", NULL, NULL, NULL, NULL) == NUL, "logs(NULL callback)");

    /* Getters on NULL give "" / an empty body / 0 / -1 as documented; frees and cancels on
     * NULL do nothing. */
    CHECK(strcmp(incluster_client_namespace(NULL), "") == 0 &&
              strcmp(incluster_client_server(NULL), "") == 0,
          "client getters on NULL give \"\"");
    len = 99;
    CHECK(incluster_response_status(NULL) == 0 && incluster_response_body(NULL, &len) != NULL &&
              len == 0 && incluster_response_header(NULL, "x") == NULL,
          "response getters on NULL");
    len = 99;
    CHECK(strcmp(incluster_error_message(NULL), "") == 0 && incluster_error_status(NULL) == 0 &&
              strcmp(incluster_error_reason(NULL), "") == 0 &&
              incluster_error_body(NULL, &len) != NULL && len == 0 &&
              incluster_error_retry_after_seconds(NULL) == -1,
          "error getters on NULL");
    CHECK(incluster_watch_resource_version(NULL) == NULL, "watch_resource_version(NULL)");
    incluster_client_free(NULL);
    incluster_config_free(NULL);
    incluster_response_free(NULL);
    incluster_error_free(NULL);
    incluster_string_free(NULL);
    incluster_watch_free(NULL);
    incluster_watch_cancel(NULL);
    incluster_logs_free(NULL);
    incluster_logs_cancel(NULL);
    CHECK(strcmp(incluster_result_name(-7), "INCLUSTER_UNKNOWN_RESULT") == 0,
          "result_name of an unknown code");
    incluster_config_free(cfg);
}

static void bad_text(incluster_client *c) {
    incluster_error *e = NULL;
    incluster_response *r = NULL;
    char *s = NULL;
    const char bad[] = {'/', 'a', (char)0xff, (char)0xfe, 0};
    const char *bad_params[] = {"labelSelector", bad, NULL};
    const char *bad_options[] = {bad, "1", NULL};

    CHECK(incluster_get(c, bad, &r, &e) == UTF8 && says(e, "path"), "invalid UTF-8 path");
    e = NULL;
    CHECK(incluster_request(c, "GET", "/version", bad_params, NULL, 0, NULL, &r, &e) == UTF8 &&
              says(e, "UTF-8"),
          "invalid UTF-8 parameter value");
    e = NULL;
    incluster_watch_handle *w = NULL;
    CHECK(incluster_watch_open(c, COLL, bad_options, &w, &e) == UTF8 && says(e, "UTF-8"),
          "invalid UTF-8 watch option");
    CHECK(w == NULL, "no watch written for a refused option");
    e = NULL;
    /* A JSON body that is not UTF-8 is the server's business; a pointer is ours. */
    CHECK(incluster_json_get_string((const uint8_t *)"{\"a\":1}", 7, bad, &s, &e) == UTF8,
          "invalid UTF-8 JSON pointer");
    incluster_error_free(e);
    e = NULL;
    /* Bytes that are not JSON: a decode error, not a crash. */
    CHECK(incluster_json_get_string((const uint8_t *)"\xff{", 2, "/a", &s, &e) ==
              INCLUSTER_ERR_DECODE,
          "invalid JSON bytes");
    incluster_error_free(e);
    e = NULL;
    /* A method with a space or a NUL-free but absurd name is refused before any I/O. */
    CHECK(incluster_request(c, "GE T", "/version", NULL, NULL, 0, NULL, &r, &e) == INV,
          "a method with a space");
    incluster_error_free(e);
    CHECK(r == NULL, "nothing written for refused text");
}

static void huge_lengths(incluster_client *c) {
    incluster_error *e = NULL;
    incluster_response *r = NULL;
    int64_t v = 0;
    const uint8_t json[] = "{\"a\":1}";
    /* Longer than any object can be (> isize::MAX): refused without touching the memory. */
    size_t absurd = (size_t)PTRDIFF_MAX + 1;
    CHECK(incluster_json_get_int(json, absurd, "/a", &v, &e) == INV && says(e, "length"),
          "json length beyond PTRDIFF_MAX");
    e = NULL;
    CHECK(incluster_request(c, "POST", COLL, NULL, json, SIZE_MAX, NULL, &r, &e) == INV &&
              says(e, "length"),
          "body length SIZE_MAX");
    CHECK(r == NULL, "no response for a refused length");
    e = NULL;
    incluster_config *cfg = NULL;
    incluster_config_new("https://127.0.0.1:1", &cfg, NULL);
    CHECK(incluster_config_set_ca_pem(cfg, json, absurd, &e) == INV, "CA PEM length absurd");
    incluster_error_free(e);
    incluster_config_free(cfg);
}

struct odd {
    int calls;
    int ret;
};

static int odd_return(void *userdata, const incluster_watch_event *ev) {
    (void)ev;
    struct odd *o = userdata;
    o->calls++;
    return o->ret;
}

static int odd_line(void *userdata, const uint8_t *line, size_t len) {
    (void)line;
    (void)len;
    struct odd *o = userdata;
    o->calls++;
    return o->ret;
}

static void callbacks(incluster_client *c) {
    /* Any non-zero return stops, whatever the value. */
    int values[] = {-1, 42, 2, INT32_MIN};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        struct odd o = {0, values[k]};
        incluster_result rc = incluster_watch(c, COLL, NULL, odd_return, &o, NULL);
        CHECK(rc == INCLUSTER_STOPPED && o.calls == 1, "watch callback: any non-zero stops");
        struct odd l = {0, values[k]};
        const char *opts[] = {"container", "app", NULL};
        rc = incluster_logs(c, "mis", "p", opts, odd_line, &l, NULL);
        CHECK(rc == INCLUSTER_STOPPED && l.calls == 1, "logs callback: any non-zero stops");
    }
}

struct nested {
    incluster_client *c;
    incluster_watch_handle *self;
    incluster_result inner_get, inner_next, inner_run, inner_watch;
    char *rv;
};

static int nested_cb(void *userdata, const incluster_watch_event *ev) {
    (void)ev;
    struct nested *n = userdata;
    incluster_response *r = NULL;
    n->inner_get = incluster_get(n->c, "/version", &r, NULL);
    incluster_response_free(r);
    const incluster_watch_event *inner = NULL;
    n->inner_next = incluster_watch_next(n->self, &inner, NULL);
    n->inner_run = incluster_watch_run(n->self, odd_return, NULL, NULL);
    struct odd o = {0, 1};
    n->inner_watch = incluster_watch(n->c, COLL, NULL, odd_return, &o, NULL);
    n->rv = incluster_watch_resource_version(n->self);
    return INCLUSTER_STOP;
}

static void reentrancy(incluster_client *c) {
    struct nested n = {c, NULL, 0, 0, 0, 0, NULL};
    CHECK(incluster_watch_open(c, COLL, NULL, &n.self, NULL) == INCLUSTER_OK, "open");
    incluster_result rc = incluster_watch_run(n.self, nested_cb, &n, NULL);
    CHECK(rc == INCLUSTER_STOPPED, "the outer run stops as asked");
    CHECK(n.inner_get == INCLUSTER_OK, "a callback may make requests");
    CHECK(n.inner_watch == INCLUSTER_STOPPED, "a callback may run another watch");
    CHECK(n.inner_next == INV && n.inner_run == INV, "re-entering the same watch is refused");
    /* The running watch is in use by `_run`: asking it for anything else gives NULL. */
    CHECK(n.rv == NULL, "resource_version of the running watch inside its callback: NULL");
    incluster_string_free(n.rv);
    incluster_watch_free(n.self);
}

/* A stream busy in one thread is refused to a second at once, never waited for. */
struct busy {
    incluster_watch_handle *w;
    incluster_logs_handle *l;
    incluster_result rc;
};

static void *drain(void *arg) {
    struct busy *b = arg;
    const incluster_watch_event *ev = NULL;
    const uint8_t *line = NULL;
    size_t len = 0;
    incluster_result rc;
    do {
        rc = b->w ? incluster_watch_next(b->w, &ev, NULL)
                  : incluster_logs_next(b->l, &line, &len, NULL);
    } while (rc == INCLUSTER_OK);
    b->rc = rc;
    return NULL;
}

static void two_threads_on_one_stream(incluster_client *c) {
    struct timespec pause = {0, 300 * 1000 * 1000};
    incluster_error *e = NULL;
    struct busy w = {NULL, NULL, INCLUSTER_OK};
    CHECK(incluster_watch_open(c, COLL, NULL, &w.w, NULL) == INCLUSTER_OK, "open watch");
    pthread_t t;
    pthread_create(&t, NULL, drain, &w);
    nanosleep(&pause, NULL); /* the thread has taken the seed event and waits for more */
    const incluster_watch_event *ev = NULL;
    CHECK(incluster_watch_next(w.w, &ev, &e) == INV && says(e, "already in use"),
          "a second thread's watch_next is refused at once");
    CHECK(ev == NULL, "and writes no event");
    incluster_watch_cancel(w.w);
    pthread_join(t, NULL);
    CHECK(w.rc == INCLUSTER_ERR_CANCELLED, "the first thread's watch ends by cancel");
    incluster_watch_free(w.w);

    struct busy l = {NULL, NULL, INCLUSTER_OK};
    const char *follow[] = {"follow", "true", NULL};
    CHECK(incluster_logs_open(c, "mis", "p", follow, &l.l, NULL) == INCLUSTER_OK, "open logs");
    pthread_create(&t, NULL, drain, &l);
    nanosleep(&pause, NULL);
    const uint8_t *line = NULL;
    size_t len = 0;
    e = NULL;
    CHECK(incluster_logs_next(l.l, &line, &len, &e) == INV && says(e, "already in use"),
          "a second thread's logs_next is refused at once");
    CHECK(line == NULL, "and writes no line");
    incluster_logs_cancel(l.l);
    pthread_join(t, NULL);
    CHECK(l.rc == INCLUSTER_ERR_CANCELLED, "the first thread's log read ends by cancel");
    incluster_logs_free(l.l);
}

static void result_table(void) {
    CHECK(strcmp(incluster_result_name(INCLUSTER_ABSENT), "INCLUSTER_ABSENT") == 0, "name");
    CHECK(strcmp(incluster_result_message(INCLUSTER_ERR_NOT_FOUND), "HTTP 404 Not Found") == 0,
          "message");
    CHECK(strcmp(incluster_result_message(-7), "unknown result code") == 0, "unknown message");
}

struct bg {
    incluster_watch_handle *w;
    int events;
    incluster_result rc;
};

static void *watch_thread(void *arg) {
    struct bg *b = arg;
    const incluster_watch_event *ev = NULL;
    for (;;) {
        incluster_result rc = incluster_watch_next(b->w, &ev, NULL);
        if (rc != INCLUSTER_OK) {
            b->rc = rc;
            return NULL;
        }
        b->events++;
    }
}

static void free_client_while_watching(void) {
    incluster_client *c = NULL;
    incluster_client_new_in_cluster(&c, NULL);
    struct bg b = {NULL, 0, 0};
    const char *opts[] = {"incluster.deliverBookmarks", "true", NULL};
    CHECK(incluster_watch_open(c, COLL, opts, &b.w, NULL) == INCLUSTER_OK, "open");
    pthread_t t;
    pthread_create(&t, NULL, watch_thread, &b);
    /* The watch holds what it needs: freeing the client does not end or break it. */
    incluster_client_free(c);
    incluster_client *other = NULL;
    incluster_client_new_in_cluster(&other, NULL);
    const char *body = "{\"metadata\":{\"name\":\"after-free\"}}";
    incluster_response *r = NULL;
    incluster_request(other, "POST", COLL, NULL, (const uint8_t *)body, strlen(body), NULL, &r,
                      NULL);
    incluster_response_free(r);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    incluster_watch_cancel(b.w);
    pthread_join(t, NULL);
    CHECK(b.events >= 1, "the watch kept delivering after its client was freed");
    CHECK(b.rc == INCLUSTER_ERR_CANCELLED, "and ended by cancel");
    incluster_watch_free(b.w);
    incluster_client_free(other);
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        incluster_error_free(e);
        return 1;
    }
    /* A ConfigMap so watches have something to deliver, a pod with a log line. */
    const char *body = "{\"metadata\":{\"name\":\"seed\"}}";
    incluster_response *r = NULL;
    incluster_request(c, "POST", COLL, NULL, (const uint8_t *)body, strlen(body), NULL, &r, NULL);
    incluster_response_free(r);
    const char *pod = "{\"namespace\":\"mis\",\"name\":\"p\",\"containers\":[\"app\"]}";
    incluster_request(c, "POST", "/_control/pods", NULL, (const uint8_t *)pod, strlen(pod), NULL,
                      &r, NULL);
    incluster_response_free(r);
    const char *lines = "{\"namespace\":\"mis\",\"pod\":\"p\",\"lines\":[\"one\",\"two\"]}";
    incluster_request(c, "POST", "/_control/logs", NULL, (const uint8_t *)lines, strlen(lines),
                      NULL, &r, NULL);
    incluster_response_free(r);

    null_arguments(c);
    bad_text(c);
    huge_lengths(c);
    callbacks(c);
    reentrancy(c);
    two_threads_on_one_stream(c);
    result_table();
    incluster_client_free(c);
    free_client_while_watching();

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
