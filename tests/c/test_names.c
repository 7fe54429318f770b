/*
 * C API tests of resources by name: incluster_resolve (every form, namespace, all namespaces,
 * a resource added at run time found at once, the did-you-mean error), names accepted by
 * incluster_request/get/patch/watch_open, and incluster_apply of a multi-document manifest.
 * Run by tests/c_api.rs in a simulated pod (namespace c-ns) against the test API server.
 */
#define _POSIX_C_SOURCE 200809L
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

static int eq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The path `what` resolves to (in `ns`, or all namespaces), into buf; "" on failure. */
static const char *path_of(incluster_client *c, const char *what, const char *ns, bool all,
                           char *buf, size_t n) {
    incluster_resolved *r = NULL;
    buf[0] = '\0';
    if (incluster_resolve(c, what, ns, all, &r, NULL) == INCLUSTER_OK) {
        snprintf(buf, n, "%s", incluster_resolved_get(r, INCLUSTER_RESOLVED_PATH));
    }
    incluster_resolved_free(r);
    return buf;
}

static void post(incluster_client *c, const char *path, const char *body) {
    incluster_response *r = NULL;
    incluster_request(c, "POST", path, NULL, (const uint8_t *)body, strlen(body), NULL, &r, NULL);
    incluster_response_free(r);
}

static int body_has(const incluster_response *r, const char *needle) {
    size_t len = 0;
    const uint8_t *b = incluster_response_body(r, &len);
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(b + i, needle, n) == 0) return 1;
    }
    return 0;
}

static void test_resolve(incluster_client *c) {
    char buf[256];
    CHECK(eq(path_of(c, "pods", NULL, false, buf, sizeof buf), "/api/v1/namespaces/c-ns/pods"),
          "pods in the client's namespace");
    CHECK(eq(path_of(c, "po/web-0", "x", false, buf, sizeof buf),
             "/api/v1/namespaces/x/pods/web-0"),
          "po/NAME in a namespace");
    CHECK(eq(path_of(c, "deployments.apps/web", NULL, false, buf, sizeof buf),
             "/apis/apps/v1/namespaces/c-ns/deployments/web"),
          "RESOURCE.GROUP/NAME");
    CHECK(eq(path_of(c, "deployments.v1.apps", NULL, true, buf, sizeof buf),
             "/apis/apps/v1/deployments"),
          "RESOURCE.VERSION.GROUP across all namespaces");
    CHECK(eq(path_of(c, "Namespace/kube-system", "x", false, buf, sizeof buf),
             "/api/v1/namespaces/kube-system"),
          "a kind, cluster-scoped: the namespace is ignored");
    CHECK(eq(path_of(c, "/api/v1/pods", NULL, false, buf, sizeof buf), "/api/v1/pods"),
          "a path is a path");

    incluster_resolved *r = NULL;
    incluster_error *e = NULL;
    CHECK(incluster_resolve(c, "deploy/web", NULL, false, &r, &e) == INCLUSTER_OK, "resolve");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_NAME), "web"), "name");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_NAMESPACE), "c-ns"), "namespace");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_GROUP), "apps"), "group");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_VERSION), "v1"), "version");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_RESOURCE), "deployments"), "plural");
    CHECK(eq(incluster_resolved_get(r, INCLUSTER_RESOLVED_KIND), "Deployment"), "kind");
    CHECK(incluster_resolved_namespaced(r) == 1, "namespaced");
    CHECK(incluster_resolved_get(r, 99) == NULL && incluster_resolved_get(r, -1) == NULL,
          "an unknown field is NULL");
    incluster_resolved_free(r);
    r = NULL;
    CHECK(incluster_resolve(c, "/api/v1/pods", NULL, false, &r, NULL) == INCLUSTER_OK &&
              incluster_resolved_get(r, INCLUSTER_RESOLVED_KIND) == NULL &&
              incluster_resolved_namespaced(r) == -1,
          "a path has no resource facts");
    incluster_resolved_free(r);
    CHECK(incluster_resolved_get(NULL, INCLUSTER_RESOLVED_PATH) == NULL &&
              incluster_resolved_namespaced(NULL) == -1,
          "NULL handle accessors");
    incluster_resolved_free(NULL);

    /* A resource added at run time (a CRD created a moment ago) is found by every name. */
    post(c, "/_control/discovery/resources",
         "{\"group\":\"stable.example.com\",\"version\":\"v1\",\"plural\":\"crontabs\","
         "\"singular\":\"crontab\",\"kind\":\"CronTab\",\"shortNames\":[\"ct\"]}");
    const char *forms[] = {"crontabs", "crontab", "ct", "CronTab", NULL};
    for (const char **f = forms; *f; f++) {
        CHECK(eq(path_of(c, *f, NULL, false, buf, sizeof buf),
                 "/apis/stable.example.com/v1/namespaces/c-ns/crontabs"),
              *f);
    }

    /* Errors: an unknown name lists the close matches; it is not a 404. */
    r = NULL;
    CHECK(incluster_resolve(c, "deploymnet", NULL, false, &r, &e) ==
                  INCLUSTER_ERR_INVALID_ARGUMENT &&
              r == NULL,
          "unknown name: invalid argument, no output");
    CHECK(strstr(incluster_error_message(e),
                 "no resource \"deploymnet\"; did you mean deployments.apps?") != NULL,
          "did you mean");
    CHECK(incluster_error_status(e) == 0, "no HTTP status");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_resolve(c, "pod/x", NULL, true, &r, &e) == INCLUSTER_ERR_INVALID_ARGUMENT &&
              strstr(incluster_error_message(e), "across all namespaces") != NULL,
          "a name across all namespaces");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_resolve(c, "/api/v1/pods", "x", false, &r, NULL) ==
              INCLUSTER_ERR_INVALID_ARGUMENT,
          "a namespace with a path");
    CHECK(incluster_resolve(c, NULL, NULL, false, &r, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL what");
    CHECK(incluster_resolve(c, "pods", NULL, false, NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL out");
    CHECK(incluster_resolve(c, "\xff", NULL, false, &r, NULL) == INCLUSTER_ERR_INVALID_UTF8,
          "bad UTF-8");
}

static void test_names_where_paths_go(incluster_client *c) {
    post(c, "/api/v1/namespaces/c-ns/configmaps", "{\"metadata\":{\"name\":\"one\"}}");
    incluster_response *r = NULL;
    incluster_error *e = NULL;
    CHECK(incluster_get(c, "cm/one", &r, &e) == INCLUSTER_OK && body_has(r, "\"name\":\"one\""),
          "incluster_get by name");
    incluster_response_free(r);
    r = NULL;
    CHECK(incluster_request(c, "GET", "configmaps", NULL, NULL, 0, NULL, &r, NULL) ==
                  INCLUSTER_OK &&
              body_has(r, "ConfigMapList"),
          "incluster_request by name");
    incluster_response_free(r);
    r = NULL;
    const char *patch = "{\"data\":{\"k\":\"v\"}}";
    CHECK(incluster_patch(c, "ConfigMap/one", INCLUSTER_PATCH_MERGE, (const uint8_t *)patch,
                          strlen(patch), NULL, false, &r, NULL) == INCLUSTER_OK &&
              body_has(r, "\"k\":\"v\""),
          "incluster_patch by name");
    incluster_response_free(r);
    r = NULL;
    CHECK(incluster_get(c, "cm/absent", &r, &e) == INCLUSTER_ERR_NOT_FOUND,
          "a missing object is a 404");
    incluster_error_free(e);
    e = NULL;

    const char *opts[] = {"incluster.resume", "false", "timeoutSeconds", "1", NULL};
    incluster_watch_handle *w = NULL;
    CHECK(incluster_watch_open(c, "cm/one", opts, &w, &e) == INCLUSTER_OK, "watch by name");
    const incluster_watch_event *ev = NULL;
    CHECK(w != NULL && incluster_watch_next(w, &ev, &e) == INCLUSTER_OK && eq(ev->type_, "ADDED"),
          "the watched object arrives");
    incluster_watch_free(w);
    CHECK(incluster_watch_open(c, "cnofigmaps", opts, &w, &e) == INCLUSTER_ERR_INVALID_ARGUMENT &&
              strstr(incluster_error_message(e), "did you mean configmaps?") != NULL,
          "watch of an unknown name");
    incluster_error_free(e);
}

static void test_apply(incluster_client *c) {
    const char *m = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a1}\ndata: {k: '1'}\n"
                    "---\n"
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a2\n  namespace: other\n";
    size_t n = 0;
    incluster_error *e = NULL;
    CHECK(incluster_apply(c, (const uint8_t *)m, strlen(m), "c-test", false, NULL, &n, &e) ==
                  INCLUSTER_OK &&
              n == 2,
          "apply two documents");
    incluster_response *r = NULL;
    CHECK(incluster_get(c, "/api/v1/namespaces/other/configmaps/a2", &r, NULL) == INCLUSTER_OK,
          "the second document went to its own namespace");
    incluster_response_free(r);
    r = NULL;
    CHECK(incluster_get(c, "cm/a1", &r, NULL) == INCLUSTER_OK && body_has(r, "\"k\":\"1\""),
          "the first to the client's");
    incluster_response_free(r);

    const char *bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b1}\n---\n"
                      "apiVersion: v1\nkind: Nothing\nmetadata: {name: b2}\n";
    n = 7;
    CHECK(incluster_apply(c, (const uint8_t *)bad, strlen(bad), NULL, false, NULL, &n, &e) ==
                  INCLUSTER_ERR_INVALID_ARGUMENT &&
              n == 7,
          "an unknown kind fails; no output written");
    CHECK(strstr(incluster_error_message(e), "document 2 (Nothing b2)") != NULL,
          "the error names the document");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_apply(c, (const uint8_t *)"a: [", 4, NULL, false, NULL, NULL, &e) ==
              INCLUSTER_ERR_INVALID_ARGUMENT,
          "not YAML");
    incluster_error_free(e);
    CHECK(incluster_apply(c, (const uint8_t *)"\xff", 1, NULL, false, NULL, NULL, NULL) ==
              INCLUSTER_ERR_INVALID_UTF8,
          "not UTF-8");
    CHECK(incluster_apply(c, NULL, 3, NULL, false, NULL, NULL, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL manifest with a length");
    CHECK(incluster_apply(NULL, (const uint8_t *)m, strlen(m), NULL, false, NULL, NULL, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL client");
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    test_resolve(c);
    test_names_where_paths_go(c);
    test_apply(c);
    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
