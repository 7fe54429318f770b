/*
 * The C front against the real control plane (tests/e2e/test_c.py runs it in the simulated
 * pod: KUBERNETES_SERVICE_HOST/PORT and INCLUSTER_SERVICEACCOUNT_DIR are set).
 *
 *   e2e crud NAME            ConfigMap CRUD, every patch type, 404, 403, whoami, can-i
 *   e2e edges NAME           issue 20's request edges: fieldManager on a merge patch, force
 *                            refused off apply, method FOO, can-i GET and an unknown verb,
 *                            an explicit server keeping the pod's identity
 *   e2e watch PATH STOP      watch PATH, print "TYPE<TAB>name<TAB>data.v" per event, stop
 *                            after the ADDED event of ConfigMap STOP
 *   e2e watch-bookmark PATH  a streaming list of PATH, until its initial-events-end BOOKMARK
 *   e2e logs POD CONTAINER   follow the container's log, print each line
 *   e2e loop SECONDS         GET the namespace's ConfigMaps for SECONDS, print ok/failed counts
 *
 * Prints "not ok - ..." and exits 1 on a failed check.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incluster.h"

static int failed = 0;

#define CHECK(cond, name)                                                          \
    do {                                                                           \
        if (cond) {                                                                \
            printf("ok - %s\n", name);                                             \
        } else {                                                                   \
            failed++;                                                              \
            printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__);             \
        }                                                                          \
    } while (0)

static void show_error(const char *what, incluster_error *err) {
    if (err == NULL) return;
    fprintf(stderr, "%s: %s (status %u, reason %s)\n", what, incluster_error_message(err),
            (unsigned)incluster_error_status(err),
            incluster_error_reason(err) ? incluster_error_reason(err) : "-");
}

/* The string at `pointer` in a response body, or "" (a static buffer). */
static const char *field(incluster_response *r, const char *pointer) {
    static char buf[256];
    char *s = NULL;
    buf[0] = 0;
    if (r != NULL && incluster_response_get_string(r, pointer, &s, NULL) == INCLUSTER_OK) {
        snprintf(buf, sizeof buf, "%s", s);
    }
    incluster_string_free(s);
    return buf;
}

static incluster_result req(incluster_client *c, const char *method, const char *path,
                            const char *body, incluster_response **out, incluster_error **err) {
    return incluster_request(c, method, path, NULL, (const uint8_t *)body,
                             body ? strlen(body) : 0, NULL, out, err);
}

static int crud(incluster_client *c, const char *name) {
    const char *ns = incluster_client_namespace(c);
    char coll[256], item[320], body[512];
    snprintf(coll, sizeof coll, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(item, sizeof item, "%s/%s", coll, name);
    incluster_response *r = NULL;
    incluster_error *err = NULL;

    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\"v1\"}}", name);
    incluster_result rc = req(c, "POST", coll, body, &r, &err);
    show_error("create", err);
    CHECK(rc == INCLUSTER_OK && incluster_response_status(r) == 201, "create gives 201");
    CHECK(strcmp(field(r, "/data/k"), "v1") == 0, "create returns the object");
    incluster_response_free(r), r = NULL;

    rc = req(c, "POST", coll, body, &r, &err);
    CHECK(rc == INCLUSTER_ERR_CONFLICT && err && incluster_error_status(err) == 409 &&
              strcmp(incluster_error_reason(err), "AlreadyExists") == 0,
          "create again: 409 AlreadyExists");
    incluster_error_free(err), err = NULL;

    const char *merge = "{\"data\":{\"merge\":\"m\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_MERGE, (const uint8_t *)merge, strlen(merge),
                         NULL, false, &r, &err);
    show_error("merge patch", err);
    CHECK(rc == INCLUSTER_OK && strcmp(field(r, "/data/merge"), "m") == 0, "merge patch");
    incluster_response_free(r), r = NULL;

    const char *json = "[{\"op\":\"replace\",\"path\":\"/data/k\",\"value\":\"v2\"}]";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_JSON, (const uint8_t *)json, strlen(json), NULL,
                         false, &r, &err);
    show_error("json patch", err);
    CHECK(rc == INCLUSTER_OK && strcmp(field(r, "/data/k"), "v2") == 0, "json patch");
    incluster_response_free(r), r = NULL;

    const char *smp = "{\"data\":{\"strategic\":\"s\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_STRATEGIC, (const uint8_t *)smp, strlen(smp),
                         NULL, false, &r, &err);
    show_error("strategic patch", err);
    CHECK(rc == INCLUSTER_OK && strcmp(field(r, "/data/strategic"), "s") == 0,
          "strategic merge patch");
    incluster_response_free(r), r = NULL;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
             "\"data\":{\"applied\":\"a\"}}",
             name);
    rc = incluster_patch(c, item, INCLUSTER_PATCH_APPLY, (const uint8_t *)body, strlen(body),
                         "e2e-c", true, &r, &err);
    show_error("apply", err);
    CHECK(rc == INCLUSTER_OK && strcmp(field(r, "/data/applied"), "a") == 0,
          "server-side apply");
    incluster_response_free(r), r = NULL;

    rc = incluster_get(c, item, &r, &err);
    CHECK(rc == INCLUSTER_OK && strcmp(field(r, "/data/k"), "v2") == 0 &&
              strcmp(field(r, "/data/merge"), "m") == 0,
          "get sees every change");
    incluster_response_free(r), r = NULL;

    rc = req(c, "DELETE", item, NULL, &r, &err);
    show_error("delete", err);
    CHECK(rc == INCLUSTER_OK, "delete");
    incluster_response_free(r), r = NULL;

    rc = incluster_get(c, item, &r, &err);
    CHECK(rc == INCLUSTER_ERR_NOT_FOUND && err && incluster_error_status(err) == 404 &&
              strcmp(incluster_error_reason(err), "NotFound") == 0 &&
              strstr(incluster_error_message(err), name) != NULL,
          "get after delete: 404 NotFound naming the object");
    incluster_error_free(err), err = NULL;

    char secrets[256];
    snprintf(secrets, sizeof secrets, "/api/v1/namespaces/%s/secrets", ns);
    rc = incluster_get(c, secrets, &r, &err);
    CHECK(rc == INCLUSTER_ERR_FORBIDDEN && err && incluster_error_status(err) == 403 &&
              strcmp(incluster_error_reason(err), "Forbidden") == 0 &&
              strstr(incluster_error_message(err), "system:serviceaccount:") != NULL,
          "secrets: 403 Forbidden from RBAC, naming the user");
    if (err) printf("# 403 message: %s\n", incluster_error_message(err));
    incluster_error_free(err), err = NULL;

    char *who = NULL;
    rc = incluster_whoami(c, &who, &err);
    show_error("whoami", err);
    CHECK(rc == INCLUSTER_OK && strstr(who, "\"system:serviceaccount:e2e:app\"") != NULL,
          "whoami: the ServiceAccount's user name");
    if (who) printf("# whoami: %.200s\n", who);
    incluster_string_free(who);

    bool allowed = false;
    rc = incluster_can_i(c, "create", "configmaps", NULL, NULL, NULL, &allowed, NULL, &err);
    CHECK(rc == INCLUSTER_OK && allowed, "can-i create configmaps: yes");
    rc = incluster_can_i(c, "list", "secrets", NULL, NULL, NULL, &allowed, NULL, &err);
    CHECK(rc == INCLUSTER_OK && !allowed, "can-i list secrets: no");
    rc = incluster_can_i(c, "get", "pods", NULL, NULL, "log", &allowed, NULL, &err);
    CHECK(rc == INCLUSTER_OK && allowed, "can-i get pods/log: yes");
    incluster_error_free(err);
    return failed ? 1 : 0;
}

static int on_event(void *userdata, const incluster_watch_event *ev) {
    const char *stop = userdata;
    char *name = NULL, *value = NULL;
    if (ev->object_len > 0) {
        incluster_watch_event_get_string(ev, "/metadata/name", &name, NULL);
        incluster_watch_event_get_string(ev, "/data/v", &value, NULL);
    }
    printf("%s\t%s\t%s\n", ev->type_, name ? name : "", value ? value : "");
    fflush(stdout);
    int done = strcmp(ev->type_, "ADDED") == 0 && name && strcmp(name, stop) == 0;
    incluster_string_free(name);
    incluster_string_free(value);
    return done ? INCLUSTER_STOP : INCLUSTER_CONTINUE;
}

static int watch(incluster_client *c, const char *path, const char *stop) {
    incluster_error *err = NULL;
    const char *options[] = {"incluster.deliverBookmarks", "true", NULL};
    incluster_result rc = incluster_watch(c, path, options, on_event, (void *)stop, &err);
    show_error("watch", err);
    incluster_error_free(err);
    printf("# watch ended: %s\n", incluster_result_name(rc));
    return rc == INCLUSTER_STOPPED ? 0 : 1;
}

static int until_bookmark(void *userdata, const incluster_watch_event *ev) {
    (void)userdata;
    printf("%s\n", ev->type_);
    return strcmp(ev->type_, "BOOKMARK") == 0 ? INCLUSTER_STOP : INCLUSTER_CONTINUE;
}

static int watch_bookmark(incluster_client *c, const char *path) {
    incluster_error *err = NULL;
    const char *options[] = {"sendInitialEvents", "true", "resourceVersionMatch", "NotOlderThan",
                             "resourceVersion", "", "incluster.deliverBookmarks", "true", NULL};
    incluster_result rc = incluster_watch(c, path, options, until_bookmark, NULL, &err);
    show_error("watch", err);
    incluster_error_free(err);
    return rc == INCLUSTER_STOPPED ? 0 : 1;
}

static int on_line(void *userdata, const uint8_t *line, size_t len) {
    (void)userdata;
    fwrite(line, 1, len, stdout);
    if (len == 0 || line[len - 1] != '\n') fputc('\n', stdout);
    fflush(stdout);
    return INCLUSTER_CONTINUE;
}

static int logs(incluster_client *c, const char *pod, const char *container) {
    incluster_error *err = NULL;
    /* Resuming is off by default in the C API (on in the CLI's -f and in Python). */
    const char *options[] = {"container", container, "follow", "true", "incluster.resume", "true",
                             NULL};
    incluster_result rc = incluster_logs(c, NULL, pod, options, on_line, NULL, &err);
    show_error("logs", err);
    incluster_error_free(err);
    fprintf(stderr, "# logs ended: %s\n", incluster_result_name(rc));
    return rc == INCLUSTER_END ? 0 : 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int loop(incluster_client *c, double seconds) {
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", incluster_client_namespace(c));
    long ok = 0, bad = 0;
    double end = now() + seconds;
    while (now() < end) {
        incluster_response *r = NULL;
        incluster_error *err = NULL;
        incluster_result rc = incluster_get(c, path, &r, &err);
        if (rc == INCLUSTER_OK) {
            ok++;
        } else {
            bad++;
            show_error("loop get", err);
        }
        incluster_response_free(r);
        incluster_error_free(err);
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    printf("ok=%ld failed=%ld\n", ok, bad);
    return 0;
}

static int edges(incluster_client *c, const char *name) {
    const char *ns = incluster_client_namespace(c);
    char coll[256], item[320], body[256];
    snprintf(coll, sizeof coll, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(item, sizeof item, "%s/%s", coll, name);
    incluster_response *r = NULL;
    incluster_error *err = NULL;
    /* With data: an object created with no fields of its own gets no managedFields, and
       then the server tracks no later manager either. */
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\"v\"}}",
             name);
    incluster_result rc = req(c, "POST", coll, body, &r, &err);
    show_error("create", err);
    CHECK(rc == INCLUSTER_OK, "create");
    incluster_response_free(r), r = NULL;

    /* The server records the field manager of a merge patch: it was sent. */
    const char *merge = "{\"data\":{\"m\":\"1\"}}";
    rc = incluster_patch(c, item, INCLUSTER_PATCH_MERGE, (const uint8_t *)merge, strlen(merge),
                         "e2e-c-merger", false, &r, &err);
    show_error("merge patch with a field manager", err);
    char *managers = NULL;
    size_t len = 0;
    const uint8_t *json = incluster_response_body(r, &len);
    if (rc == INCLUSTER_OK) {
        incluster_jsonpath(json, len, "{.metadata.managedFields[*].manager}", &managers, NULL);
    }
    CHECK(managers && strstr(managers, "e2e-c-merger") != NULL,
          "merge patch records its field manager");
    if (managers == NULL || strstr(managers, "e2e-c-merger") == NULL) {
        fprintf(stderr, "managers: %s\nbody: %.*s\n", managers ? managers : "(none)", (int)len,
                (const char *)json);
    }
    incluster_string_free(managers);
    incluster_response_free(r), r = NULL;

    rc = incluster_patch(c, item, INCLUSTER_PATCH_MERGE, (const uint8_t *)merge, strlen(merge),
                         "e2e-c-merger", true, &r, &err);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && err &&
              strstr(incluster_error_message(err), "force is only valid for an apply") != NULL,
          "force with a merge patch is refused");
    incluster_error_free(err), err = NULL;

    rc = req(c, "FOO", "/version", NULL, &r, &err);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT && r == NULL, "method FOO is an argument error");
    incluster_error_free(err), err = NULL;

    bool allowed = false;
    char *reason = NULL;
    rc = incluster_can_i(c, "GET", "configmaps", NULL, NULL, NULL, &allowed, NULL, &err);
    show_error("can_i GET", err);
    CHECK(rc == INCLUSTER_OK && allowed, "can_i GET configmaps: yes (asked as get)");
    rc = incluster_can_i(c, "foo", "configmaps", NULL, NULL, NULL, &allowed, &reason, &err);
    CHECK(rc == INCLUSTER_OK && !allowed && reason &&
              strncmp(reason, "warning: verb 'foo' is not a known verb", 39) == 0,
          "can_i foo: no, with kubectl's warning");
    incluster_string_free(reason);

    /* An explicit server in the pod keeps the pod's token: not system:anonymous. */
    incluster_config *cfg = NULL;
    incluster_client *again = NULL;
    char *who = NULL;
    rc = incluster_config_new(incluster_client_server(c), &cfg, &err);
    if (rc == INCLUSTER_OK) rc = incluster_client_new(cfg, &again, &err);
    if (rc == INCLUSTER_OK) rc = incluster_whoami(again, &who, &err);
    show_error("explicit server", err);
    CHECK(rc == INCLUSTER_OK && who && strstr(who, "system:serviceaccount:") != NULL,
          "config_new with the pod's server keeps the ServiceAccount");
    incluster_string_free(who);
    incluster_client_free(again);
    incluster_config_free(cfg);
    incluster_error_free(err), err = NULL;

    rc = req(c, "DELETE", item, NULL, &r, &err);
    show_error("delete", err);
    incluster_response_free(r);
    incluster_error_free(err);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: e2e crud NAME | watch PATH STOP | logs POD C | loop SECONDS\n");
        return 2;
    }
    incluster_client *c = NULL;
    incluster_error *err = NULL;
    if (incluster_client_new_in_cluster(&c, &err) != INCLUSTER_OK) {
        show_error("client", err);
        incluster_error_free(err);
        return 1;
    }
    int rc = 2;
    if (strcmp(argv[1], "crud") == 0 && argc == 3) rc = crud(c, argv[2]);
    if (strcmp(argv[1], "edges") == 0 && argc == 3) rc = edges(c, argv[2]);
    if (strcmp(argv[1], "watch") == 0 && argc == 4) rc = watch(c, argv[2], argv[3]);
    if (strcmp(argv[1], "watch-bookmark") == 0 && argc == 3) rc = watch_bookmark(c, argv[2]);
    if (strcmp(argv[1], "logs") == 0 && argc == 4) rc = logs(c, argv[2], argv[3]);
    if (strcmp(argv[1], "loop") == 0 && argc == 3) rc = loop(c, atof(argv[2]));
    incluster_client_free(c);
    return rc;
}
