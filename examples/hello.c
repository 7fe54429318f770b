/*
 * The smallest useful in-cluster C program: discover the config the pod was given, GET the
 * server version and list the pods of the pod's own namespace (a namespaced ServiceAccount may
 * not read `default`).
 *
 *   cc -Iinclude examples/hello.c -Ltarget/debug -lincluster -o hello && ./hello
 */
#include <stdio.h>

#include "incluster.h"

static int print(incluster_result rc, incluster_response *resp, incluster_error *err) {
    if (rc != INCLUSTER_OK) {
        /* The message is whole: for an API error it names the request, the HTTP status and
           the reason ("GET /api/v1/namespaces/NS/pods 403 (Forbidden): ..."), otherwise the
           file or server that failed. `rc` is for the program to branch on. */
        fprintf(stderr, "%s\n", incluster_error_message(err));
        incluster_error_free(err);
        return 1;
    }
    size_t len = 0;
    const uint8_t *body = incluster_response_body(resp, &len);
    printf("HTTP %u: %.*s\n", incluster_response_status(resp), (int)len, (const char *)body);
    incluster_response_free(resp);
    return 0;
}

int main(void) {
    incluster_client *client = NULL;
    incluster_error *err = NULL;
    incluster_result rc = incluster_client_new_in_cluster(&client, &err);
    if (rc != INCLUSTER_OK) return print(rc, NULL, err);

    incluster_response *resp = NULL;
    rc = incluster_get(client, "/version", &resp, &err);
    int failed = print(rc, resp, err);

    const char *params[] = {"limit", "10", NULL};
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", incluster_client_namespace(client));
    rc = incluster_request(client, "GET", path, params, NULL, 0, NULL, &resp, &err);
    failed |= print(rc, resp, err);

    incluster_client_free(client);
    return failed;
}
