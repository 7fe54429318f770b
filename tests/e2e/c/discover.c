/*
 * The same C program in a pod and off-cluster: the client from discovery
 * (incluster_client_new_default: the pod's ServiceAccount, else the kubeconfig), its source,
 * and the ConfigMaps of its namespace. Prints "source <json>" and "configmaps <status>".
 */
#include <stdio.h>
#include <string.h>

#include "incluster.h"

int main(void) {
    incluster_client *c = NULL;
    incluster_error *err = NULL;
    if (incluster_client_new_default(&c, &err) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(err));
        incluster_error_free(err);
        return 1;
    }
    char *source = incluster_client_source(c);
    printf("source %s\n", source);
    incluster_string_free(source);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", incluster_client_namespace(c));
    incluster_response *r = NULL;
    incluster_result rc = incluster_request(c, "GET", path, NULL, NULL, 0, NULL, &r, &err);
    if (rc != INCLUSTER_OK) {
        fprintf(stderr, "GET %s: %s\n", path, incluster_error_message(err));
        incluster_error_free(err);
        incluster_client_free(c);
        return 1;
    }
    printf("configmaps %u\n", (unsigned)incluster_response_status(r));
    incluster_response_free(r);
    incluster_client_free(c);
    return 0;
}
