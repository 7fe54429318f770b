/*
 * C API tests: a real C program linked against libincluster.so, run by tests/c_api.rs against
 * the project's test API server, in a simulated pod (KUBERNETES_SERVICE_HOST/PORT and
 * INCLUSTER_SERVICEACCOUNT_DIR set), and again under valgrind.
 *
 * Extra environment: INCLUSTER_TEST_URL, INCLUSTER_TEST_CA, INCLUSTER_TEST_OTHER_CA,
 * INCLUSTER_TEST_TOKEN_FILE.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incluster.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond, name)                                                     \
    do {                                                                      \
        if (cond) {                                                           \
            passed++;                                                         \
        } else {                                                              \
            failed++;                                                         \
            fprintf(stderr, "not ok - %s (%s:%d)\n", name, __FILE__, __LINE__); \
        }                                                                     \
    } while (0)

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "missing environment variable %s\n", name);
        exit(2);
    }
    return v;
}

static int body_contains(const incluster_response *r, const char *needle) {
    size_t len = 0;
    const uint8_t *b = incluster_response_body(r, &len);
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(b + i, needle, n) == 0) return 1;
    }
    return 0;
}

static void test_version(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", INCLUSTER_VERSION_MAJOR, INCLUSTER_VERSION_MINOR,
             INCLUSTER_VERSION_PATCH);
    CHECK(strcmp(incluster_version(), want) == 0, "version function matches macros");
    CHECK(strcmp(INCLUSTER_VERSION, want) == 0, "INCLUSTER_VERSION matches parts");
    CHECK(strcmp(incluster_result_name(INCLUSTER_ERR_TLS), "INCLUSTER_ERR_TLS") == 0,
          "result name");
    CHECK(strcmp(incluster_result_name(12345), "INCLUSTER_UNKNOWN_RESULT") == 0,
          "unknown result name");
}

static void test_get_version(incluster_client *c) {
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    incluster_result rc = incluster_get(c, "/version", &r, &e);
    CHECK(rc == INCLUSTER_OK && e == NULL, "GET /version ok");
    CHECK(incluster_response_status(r) == 200, "status 200");
    CHECK(body_contains(r, "\"gitVersion\""), "body has gitVersion");
    const char *ct = incluster_response_header(r, "Content-Type");
    CHECK(ct != NULL && strstr(ct, "application/json") != NULL, "content-type header lookup");
    CHECK(incluster_response_header(r, "X-Not-There") == NULL, "absent header is NULL");
    incluster_response_free(r);
}

static incluster_result req(incluster_client *c, const char *method, const char *path,
                            const char *body, const char *ct, incluster_response **r,
                            incluster_error **e) {
    return incluster_request(c, method, path, NULL, (const uint8_t *)body,
                             body ? strlen(body) : 0, ct, r, e);
}

static void test_crud(incluster_client *c) {
    const char *ns = incluster_client_namespace(c);
    char coll[256], item[320];
    snprintf(coll, sizeof coll, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(item, sizeof item, "%s/c-cm", coll);
    incluster_response *r = NULL;
    incluster_error *e = NULL;

    incluster_result rc = req(c, "POST", coll,
                              "{\"metadata\":{\"name\":\"c-cm\"},\"data\":{\"a\":\"1\"}}", NULL,
                              &r, &e);
    CHECK(rc == INCLUSTER_OK && incluster_response_status(r) == 201, "POST creates (201)");
    incluster_response_free(r);
    r = NULL;

    rc = req(c, "POST", coll, "{\"metadata\":{\"name\":\"c-cm\"}}", NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_CONFLICT, "second POST is a conflict");
    CHECK(r == NULL, "no response written on failure");
    CHECK(incluster_error_status(e) == 409, "conflict status 409");
    CHECK(strcmp(incluster_error_reason(e), "AlreadyExists") == 0, "reason AlreadyExists");
    CHECK(strstr(incluster_error_message(e), "already exists") != NULL, "message from Status");
    incluster_error_free(e);
    e = NULL;

    rc = req(c, "PUT", item,
             "{\"metadata\":{\"name\":\"c-cm\"},\"data\":{\"a\":\"2\"}}", NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"a\":\"2\""), "PUT replaces");
    incluster_response_free(r);

    const char *merge = "{\"data\":{\"b\":\"3\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_MERGE, (const uint8_t *)merge, strlen(merge),
                         NULL, false, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"b\":\"3\""), "merge patch");
    incluster_response_free(r);

    const char *jp = "[{\"op\":\"replace\",\"path\":\"/data/a\",\"value\":\"9\"}]";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_JSON, (const uint8_t *)jp, strlen(jp), NULL,
                         false, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"a\":\"9\""), "json patch");
    incluster_response_free(r);

    const char *sp = "{\"data\":{\"s\":\"x\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_STRATEGIC, (const uint8_t *)sp, strlen(sp),
                         NULL, false, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"s\":\"x\""), "strategic merge patch");
    incluster_response_free(r);

    const char *ap = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                     "\"c-cm\"},\"data\":{\"ap\":\"y\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_APPLY, (const uint8_t *)ap, strlen(ap),
                         "c-test", true, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"manager\":\"c-test\""),
          "apply patch with field manager");
    incluster_response_free(r);

    rc = incluster_patch(c, item, 77, (const uint8_t *)sp, strlen(sp), NULL, false, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "unknown patch type is an argument error");
    incluster_error_free(e);
    e = NULL;

    /* fieldManager goes with every patch type; force only with apply (the core decides). */
    rc = incluster_patch(c, "/_test/echo", INCLUSTER_PATCH_MERGE, (const uint8_t *)sp,
                         strlen(sp), "c-merger", false, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"query\":\"fieldManager=c-merger\""),
          "merge patch sends fieldManager");
    incluster_response_free(r);
    r = NULL;
    rc = incluster_patch(c, item, INCLUSTER_PATCH_MERGE, (const uint8_t *)sp, strlen(sp),
                         "c-merger", true, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && r == NULL, "force with merge is refused");
    CHECK(e && strstr(incluster_error_message(e),
                      "force is only valid for an apply patch, not for a merge patch") != NULL,
          "force error names force and the patch type");
    incluster_error_free(e);
    e = NULL;

    rc = req(c, "DELETE", item, NULL, NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK, "DELETE");
    incluster_response_free(r);

    rc = incluster_get(c, item, &r, &e);
    CHECK(rc == INCLUSTER_ERR_NOT_FOUND, "GET after delete is NOT_FOUND");
    CHECK(strcmp(incluster_error_reason(e), "NotFound") == 0, "reason NotFound");
    size_t blen = 0;
    const uint8_t *body = incluster_error_body(e, &blen);
    CHECK(blen > 0 && memchr(body, '{', blen) != NULL, "error carries the Status body");
    incluster_error_free(e);
}

static void test_params_and_statuses(incluster_client *c) {
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    const char *params[] = {"labelSelector", "app in (a,b)", "limit", "5", NULL};
    incluster_result rc =
        incluster_request(c, "GET", "/_test/echo", params, NULL, 0, NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "labelSelector=app%20in%20%28a%2Cb%29&limit=5"),
          "params are percent-encoded");
    incluster_response_free(r);

    const char *odd[] = {"limit", NULL};
    rc = incluster_request(c, "GET", "/_test/echo", odd, NULL, 0, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "key without value rejected");
    incluster_error_free(e);

    rc = incluster_get(c, "/_test/flaky?key=c429&fail=2&code=429&retry_after=0", &r, &e);
    CHECK(rc == INCLUSTER_OK && body_contains(r, "\"attempts\":3"), "429 retried to success");
    incluster_response_free(r);

    rc = incluster_get(c, "/_test/status/429", &r, &e);
    CHECK(rc == INCLUSTER_ERR_TOO_MANY_REQUESTS, "429 without Retry-After is returned");
    CHECK(incluster_error_retry_after_seconds(e) == 1, "retryAfterSeconds from Status details");
    incluster_error_free(e);

    rc = incluster_get(c, "/_test/status/500", &r, &e);
    CHECK(rc == INCLUSTER_ERR_SERVER && incluster_error_status(e) == 500, "500 is SERVER");
    incluster_error_free(e);

    rc = incluster_get(c, "/_test/status/403", &r, &e);
    CHECK(rc == INCLUSTER_ERR_FORBIDDEN && strcmp(incluster_error_reason(e), "Forbidden") == 0,
          "403 is FORBIDDEN with reason");
    incluster_error_free(e);

    rc = incluster_get(c, "/_test/status/418?plain=1", &r, &e);
    CHECK(rc == INCLUSTER_ERR_API && incluster_error_status(e) == 418, "other 4xx is API");
    incluster_error_free(e);

    /* A method that is not one is the caller's error, found before anything is sent. */
    e = NULL;
    r = NULL;
    rc = incluster_request(c, "FOO", "/version", NULL, NULL, 0, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && r == NULL, "method FOO is an argument error");
    CHECK(e && strstr(incluster_error_message(e), "\"FOO\" is not supported") != NULL,
          "method error names the method");
    incluster_error_free(e);
    e = NULL;
    rc = incluster_request(c, "GE T", "/version", NULL, NULL, 0, NULL, &r, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && e &&
              strstr(incluster_error_message(e), "is not a valid method name") != NULL,
          "a method with a space is not a token");
    incluster_error_free(e);
    e = NULL;
    rc = incluster_request(c, "get", "/version", NULL, NULL, 0, NULL, &r, &e);
    CHECK(rc == INCLUSTER_OK, "method case does not matter");
    incluster_response_free(r);
}

static void test_misuse(incluster_client *c) {
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    CHECK(incluster_get(NULL, "/version", &r, &e) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL client");
    CHECK(strstr(incluster_error_message(e), "client") != NULL, "NULL error names the argument");
    incluster_error_free(e);
    CHECK(incluster_get(c, NULL, &r, NULL) == INCLUSTER_ERR_NULL_ARGUMENT, "NULL path, NULL err");
    CHECK(incluster_get(c, "/version", NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT, "NULL out");
    CHECK(incluster_get(c, "/\xff\xfe", &r, NULL) == INCLUSTER_ERR_INVALID_UTF8, "bad UTF-8");
    CHECK(incluster_get(c, "version", &r, &e) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "path without slash");
    CHECK(strstr(incluster_error_message(e), "must start with '/'") != NULL,
          "path error says why");
    incluster_error_free(e);
    r = NULL;
    CHECK(incluster_request(c, "GET", "/version", NULL, NULL, 5, NULL, &r, NULL) ==
                  INCLUSTER_ERR_NULL_ARGUMENT &&
              r == NULL,
          "NULL body with a length is refused");
    CHECK(incluster_error_code(NULL) == INCLUSTER_ERR_NULL_ARGUMENT, "error_code(NULL)");
    CHECK(strcmp(incluster_error_message(NULL), "") == 0, "error_message(NULL)");
    CHECK(incluster_response_status(NULL) == 0, "response_status(NULL)");
    CHECK(strcmp(incluster_client_namespace(NULL), "") == 0, "client_namespace(NULL)");
    incluster_client_free(NULL);
    incluster_config_free(NULL);
    incluster_response_free(NULL);
    incluster_error_free(NULL);
}

static void test_access(incluster_client *c) {
    char *json = NULL;
    incluster_error *e = NULL;
    CHECK(incluster_whoami(c, &json, &e) == INCLUSTER_OK && json != NULL, "whoami");
    CHECK(json && strstr(json, "\"username\":\"system:serviceaccount:test:tester\"") != NULL,
          "whoami username");
    incluster_string_free(json);

    bool allowed = false;
    char *reason = NULL;
    CHECK(incluster_can_i(c, "list", "configmaps", NULL, NULL, NULL, &allowed, NULL, &e) ==
              INCLUSTER_OK && allowed,
          "can_i list configmaps: yes");
    CHECK(incluster_can_i(c, "delete", "pods", "", "p1", NULL, &allowed, &reason, &e) ==
              INCLUSTER_OK && !allowed,
          "can_i delete pods: no");
    CHECK(reason != NULL && strstr(reason, "only get, list and watch") != NULL, "can_i reason");
    incluster_string_free(reason);
    reason = NULL;
    CHECK(incluster_can_i(c, "GET", "pods", NULL, NULL, NULL, &allowed, NULL, &e) ==
              INCLUSTER_OK && allowed,
          "can_i GET is asked as get");
    CHECK(incluster_can_i(c, "foo", "pods", NULL, NULL, NULL, &allowed, &reason, &e) ==
              INCLUSTER_OK && !allowed,
          "can_i unknown verb: no");
    CHECK(reason != NULL && strncmp(reason, "warning: verb 'foo' is not a known verb; ", 41) == 0,
          "can_i unknown verb: the reason starts with kubectl's warning");
    incluster_string_free(reason);
    CHECK(incluster_can_i(c, "get", "pods", NULL, NULL, NULL, NULL, NULL, &e) ==
              INCLUSTER_ERR_NULL_ARGUMENT,
          "can_i NULL allowed");
    incluster_error_free(e);
    incluster_string_free(NULL);
}

struct worker {
    incluster_client *client;
    int ok;
};

static void *hammer(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < 25; i++) {
        incluster_response *r = NULL;
        if (incluster_get(w->client, "/version", &r, NULL) == INCLUSTER_OK &&
            incluster_response_status(r) == 200) {
            w->ok++;
        }
        incluster_response_free(r);
    }
    return NULL;
}

static void test_threads(incluster_client *c) {
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].client = c;
        w[i].ok = 0;
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += w[i].ok;
    }
    CHECK(total == 100, "4 threads x 25 requests on one client");
}

static incluster_client *explicit_client(const char *ca, const char *token_file,
                                         incluster_result *rc, incluster_error **e) {
    incluster_config *cfg = NULL;
    incluster_client *c = NULL;
    *rc = incluster_config_new(env("INCLUSTER_TEST_URL"), &cfg, e);
    if (*rc != INCLUSTER_OK) return NULL;
    if (ca) incluster_config_set_ca_file(cfg, ca, NULL);
    if (token_file) incluster_config_set_token_file(cfg, token_file, NULL);
    incluster_config_set_namespace(cfg, "explicit-ns", NULL);
    incluster_config_set_timeouts(cfg, 5000, 10000, NULL);
    *rc = incluster_client_new(cfg, &c, e);
    incluster_config_free(cfg);
    return c;
}

static void test_explicit_config(void) {
    incluster_result rc;
    incluster_error *e = NULL;
    incluster_client *c =
        explicit_client(env("INCLUSTER_TEST_CA"), env("INCLUSTER_TEST_TOKEN_FILE"), &rc, &e);
    CHECK(rc == INCLUSTER_OK && c != NULL, "explicit config client");
    CHECK(strcmp(incluster_client_namespace(c), "explicit-ns") == 0, "explicit namespace");
    CHECK(strcmp(incluster_client_server(c), env("INCLUSTER_TEST_URL")) == 0, "server getter");
    incluster_response *r = NULL;
    CHECK(incluster_get(c, "/version", &r, NULL) == INCLUSTER_OK, "explicit client GET");
    incluster_response_free(r);
    incluster_client_free(c);

    c = explicit_client(env("INCLUSTER_TEST_OTHER_CA"), env("INCLUSTER_TEST_TOKEN_FILE"), &rc, &e);
    r = NULL;
    rc = incluster_get(c, "/version", &r, &e);
    CHECK(rc == INCLUSTER_ERR_TLS, "wrong CA is a TLS error");
    CHECK(strstr(incluster_error_message(e), "unknown issuer") != NULL, "TLS error says why");
    CHECK(r == NULL, "no response on TLS failure");
    incluster_error_free(e);
    e = NULL;
    incluster_client_free(c);

    /* A CA file that is not PEM: the constructor fails naming the file. */
    c = explicit_client(env("INCLUSTER_TEST_TOKEN_FILE"), NULL, &rc, &e);
    CHECK(rc == INCLUSTER_ERR_CONFIG && c == NULL, "non-PEM CA file is a config error");
    CHECK(strstr(incluster_error_message(e), "is not PEM") != NULL, "config error says why");
    incluster_error_free(e);
    e = NULL;

    incluster_config *cfg = NULL;
    rc = incluster_config_new("ftp://nope", &cfg, &e);
    CHECK(rc == INCLUSTER_ERR_CONFIG && cfg == NULL, "bad server URL");
    incluster_error_free(e);
    e = NULL;

    /* Rate limits: the core's rule (qps > 0, burst >= 1), the same as Python's. */
    rc = incluster_config_new(env("INCLUSTER_TEST_URL"), &cfg, &e);
    CHECK(rc == INCLUSTER_OK, "config for rate limits");
    rc = incluster_config_set_rate_limit(cfg, 0.0, 0, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && e &&
              strstr(incluster_error_message(e), "rate limit qps must be a number > 0") != NULL,
          "rate limit (0, 0) refused naming qps");
    incluster_error_free(e);
    e = NULL;
    rc = incluster_config_set_rate_limit(cfg, 5.0, 0, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && e &&
              strstr(incluster_error_message(e), "burst must be at least 1") != NULL,
          "rate limit burst 0 refused");
    incluster_error_free(e);
    e = NULL;
    incluster_config_free(cfg);
    cfg = NULL;

    /* An explicit server in a pod keeps the pod's token, CA and namespace. */
    rc = incluster_config_new(env("INCLUSTER_TEST_URL"), &cfg, &e);
    incluster_client *kept = NULL;
    CHECK(rc == INCLUSTER_OK && incluster_client_new(cfg, &kept, &e) == INCLUSTER_OK,
          "config_new in a pod builds a client with no setter");
    incluster_config_free(cfg);
    cfg = NULL;
    incluster_response *r2 = NULL;
    CHECK(incluster_get(kept, "/_test/echo", &r2, NULL) == INCLUSTER_OK &&
              body_contains(r2, "\"authorization\":\"valid\""),
          "config_new in a pod sends the pod's token");
    incluster_response_free(r2);
    incluster_client_free(kept);
    kept = NULL;

    /* Outside a pod with no token: refused at client_new, anonymous only when asked. */
    char *saved = strdup(env("INCLUSTER_SERVICEACCOUNT_DIR"));
    setenv("INCLUSTER_SERVICEACCOUNT_DIR", "/nonexistent/sa-dir", 1);
    rc = incluster_config_new(env("INCLUSTER_TEST_URL"), &cfg, &e);
    incluster_config_set_ca_file(cfg, env("INCLUSTER_TEST_CA"), NULL);
    rc = incluster_client_new(cfg, &kept, &e);
    CHECK(rc == INCLUSTER_ERR_CONFIG && kept == NULL, "https server without a token is refused");
    CHECK(e && strstr(incluster_error_message(e), "system:anonymous") != NULL,
          "the refusal says requests would go out anonymous");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_config_clear_token(cfg, NULL) == INCLUSTER_OK &&
              incluster_client_new(cfg, &kept, &e) == INCLUSTER_OK,
          "clear_token asks for anonymous requests");
    CHECK(incluster_get(kept, "/_test/echo-anon", &r2, NULL) == INCLUSTER_OK &&
              body_contains(r2, "\"authorization\":\"none\""),
          "anonymous client sends no token");
    incluster_response_free(r2);
    incluster_client_free(kept);
    incluster_config_free(cfg);
    cfg = NULL;
    setenv("INCLUSTER_SERVICEACCOUNT_DIR", saved, 1);
    free(saved);

    rc = incluster_config_in_cluster("/nonexistent/sa-dir", &cfg, &e);
    CHECK(rc == INCLUSTER_ERR_CONFIG, "missing SA dir");
    CHECK(strstr(incluster_error_message(e), "/nonexistent/sa-dir") != NULL,
          "SA dir error names the directory");
    incluster_error_free(e);
}

int main(void) {
    test_version();
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    incluster_result rc = incluster_client_new_in_cluster(&c, &e);
    CHECK(rc == INCLUSTER_OK && e == NULL, "in-cluster client from the simulated pod");
    if (rc != INCLUSTER_OK) {
        fprintf(stderr, "cannot build client: %s\n", incluster_error_message(e));
        incluster_error_free(e);
        return 1;
    }
    test_get_version(c);
    test_crud(c);
    test_params_and_statuses(c);
    test_misuse(c);
    test_access(c);
    test_threads(c);
    incluster_client_free(c);
    test_explicit_config();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
