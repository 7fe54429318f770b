/*
 * A port-forward listener from C through the real API server (tests/e2e/test_exec.py builds
 * and runs it in the simulated pod): listens for argv[1]'s port argv[2], prints
 * "port=LOCAL", and forwards until its stdin closes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "incluster.h"

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    incluster_forwarder *f = NULL;
    if (incluster_port_forward_listen(c, NULL, argv[1], 0, (uint16_t)atoi(argv[2]), &f, &e) !=
        INCLUSTER_OK) {
        fprintf(stderr, "listen: %s\n", incluster_error_message(e));
        return 1;
    }
    printf("port=%u\n", (unsigned)incluster_forwarder_local_port(f));
    fflush(stdout);
    while (getchar() != EOF) {
    }
    incluster_forwarder_free(f);
    incluster_client_free(c);
    return 0;
}
