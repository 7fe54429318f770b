/*
 * Kubeconfig from C: a client from a kubeconfig file and context, the discovery order (the pod
 * first, then ~/.kube/config), the source a client reports, and every bad kubeconfig as
 * INCLUSTER_ERR_CONFIG with a message naming the problem. The kubeconfigs and exec plugins are
 * written by tests/c_api.rs into $INCLUSTER_TEST_KC_DIR. Run also under valgrind and ASan.
 */
#define _POSIX_C_SOURCE 200809L
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

static char path_buf[4096];

static const char *kc(const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", getenv("INCLUSTER_TEST_KC_DIR"), name);
    return path_buf;
}

/* The error's message contains every needle (and the error is freed). */
static int says(incluster_error *e, const char *a, const char *b) {
    const char *m = e ? incluster_error_message(e) : "(no error)";
    int ok = e != NULL && strstr(m, a) != NULL && (b == NULL || strstr(m, b) != NULL);
    if (!ok) fprintf(stderr, "  message: %s\n", m);
    incluster_error_free(e);
    return ok;
}

static int source_has(const incluster_client *c, const char *needle) {
    char *s = incluster_client_source(c);
    int ok = s != NULL && strstr(s, needle) != NULL;
    if (!ok) fprintf(stderr, "  source: %s\n", s ? s : "(null)");
    incluster_string_free(s);
    return ok;
}

static int get_version(const incluster_client *c) {
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    incluster_result rc = incluster_request(c, "GET", "/version", NULL, NULL, 0, NULL, &r, &e);
    if (rc != INCLUSTER_OK) fprintf(stderr, "  %s\n", e ? incluster_error_message(e) : "");
    incluster_error_free(e);
    incluster_response_free(r);
    return rc == INCLUSTER_OK;
}

/* A client from the kubeconfig `name` whose first request fails with a config error. The
 * exec plugin gets the request timeout: 1 s for the one that hangs, 30 s for the others, which
 * must fail for their own reason even on a loaded machine under valgrind. */
static int request_fails(const char *name, const char *a, const char *b) {
    uint32_t ms = strcmp(name, "exec-hangs") == 0 ? 1000 : 30000;
    incluster_config *cfg = NULL;
    incluster_client *c = NULL;
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    int ok = incluster_config_from_kubeconfig(kc(name), NULL, &cfg, NULL) == INCLUSTER_OK;
    ok = ok && incluster_config_set_timeouts(cfg, ms, ms, NULL) == INCLUSTER_OK;
    ok = ok && incluster_client_new(cfg, &c, NULL) == INCLUSTER_OK;
    ok = ok && incluster_request(c, "GET", "/version", NULL, NULL, 0, NULL, &r, &e) ==
                   INCLUSTER_ERR_CONFIG;
    ok = ok && r == NULL && says(e, a, b);
    incluster_client_free(c);
    incluster_config_free(cfg);
    return ok;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_config *cfg = NULL;
    incluster_error *e = NULL;

    /* An explicit file and its current context. */
    CHECK(incluster_client_new_from_kubeconfig(kc("good"), NULL, &c, &e) == INCLUSTER_OK,
          "client from a kubeconfig");
    CHECK(get_version(c), "a request with the kubeconfig's token");
    CHECK(strcmp(incluster_client_namespace(c), "kc-ns") == 0, "the context's namespace");
    CHECK(source_has(c, "\"type\":\"kubeconfig\"") && source_has(c, "\"context\":\"dev\""),
          "the source names the kubeconfig and the context");
    incluster_client_free(c);
    c = NULL;

    /* Another context, through a config the setters can adjust. */
    CHECK(incluster_config_from_kubeconfig(kc("good"), "other", &cfg, NULL) == INCLUSTER_OK,
          "config from a kubeconfig context");
    CHECK(incluster_client_new(cfg, &c, NULL) == INCLUSTER_OK && get_version(c),
          "a request through the other context");
    CHECK(strcmp(incluster_client_namespace(c), "other-ns") == 0, "the other namespace");
    incluster_client_free(c);
    incluster_config_free(cfg);
    c = NULL;
    cfg = NULL;

    /* tokenFile and an exec plugin. */
    CHECK(incluster_client_new_from_kubeconfig(kc("tokenfile"), NULL, &c, NULL) == INCLUSTER_OK &&
              get_version(c),
          "tokenFile");
    incluster_client_free(c);
    c = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("exec"), NULL, &c, NULL) == INCLUSTER_OK &&
              get_version(c) && get_version(c),
          "an exec plugin");
    incluster_client_free(c);
    c = NULL;

    /* Discovery: in the simulated pod, the pod; without it, ~/.kube/config. */
    CHECK(incluster_client_new_default(&c, NULL) == INCLUSTER_OK && get_version(c) &&
              source_has(c, "in-cluster"),
          "discovery in a pod");
    incluster_client_free(c);
    c = NULL;
    unsetenv("KUBERNETES_SERVICE_HOST");
    setenv("HOME", kc("home"), 1);
    CHECK(incluster_client_new_default(&c, NULL) == INCLUSTER_OK && get_version(c) &&
              source_has(c, "kubeconfig"),
          "discovery off-cluster finds ~/.kube/config");
    incluster_client_free(c);
    c = NULL;
    CHECK(incluster_config_discover(NULL, &cfg, NULL) == INCLUSTER_OK, "config_discover");
    incluster_config_free(cfg);
    cfg = NULL;

    /* Bad input, each a config error naming the problem. */
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("absent"), NULL, &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              c == NULL && says(e, "absent", "does not exist"),
          "a missing file");
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("good"), "nope", &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              says(e, "context \"nope\" is not in kubeconfig", "dev, other"),
          "a missing context");
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("malformed"), NULL, &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              says(e, "malformed", "at line"),
          "malformed YAML with its line");
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("ghost"), NULL, &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              says(e, "user \"ghost\"", "is not in kubeconfig"),
          "a missing user");
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("authprovider"), NULL, &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              says(e, "auth-provider", "does not support"),
          "auth-provider is unsupported");
    e = NULL;
    CHECK(incluster_client_new_from_kubeconfig(kc("basic"), NULL, &c, &e) ==
                  INCLUSTER_ERR_CONFIG &&
              says(e, "basic authentication", NULL),
          "basic auth is unsupported");
    CHECK(request_fails("exec-missing", "no-such-plugin-xyz", "was not found"),
          "a missing exec plugin");
    CHECK(request_fails("exec-fails", "exec-fails.sh", "token expired: log in again"),
          "a failing exec plugin, with its stderr");
    CHECK(request_fails("exec-hangs", "exec-hangs.sh", "did not answer within 1s"),
          "a hanging exec plugin is stopped");
    CHECK(request_fails("exec-garbage", "exec-garbage.sh", "not an ExecCredential"),
          "an exec plugin printing garbage");
    CHECK(incluster_client_source(NULL) == NULL, "source(NULL) is NULL");
    CHECK(incluster_config_from_kubeconfig(NULL, NULL, NULL, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT,
          "from_kubeconfig(NULL out)");
    CHECK(incluster_client_new_default(NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "new_default(NULL out)");

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
