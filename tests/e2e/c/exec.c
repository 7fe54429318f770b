/*
 * exec through the real API server from C (tests/e2e/test_exec.py builds and runs it in the
 * simulated pod): prints the exit code and both streams of
 * sh -c 'echo out; echo err >&2; exit 3' in the pod named by argv[1].
 */
#include <stdio.h>
#include <string.h>

#include "incluster.h"

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    const char *cmd[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    incluster_exec_handle *x = NULL;
    if (incluster_exec_open(c, NULL, argv[1], cmd, NULL, &x, &e) != INCLUSTER_OK) {
        fprintf(stderr, "exec: %s\n", incluster_error_message(e));
        return 1;
    }
    char out[64] = "", err[64] = "";
    int ch = 0, code = -1;
    const uint8_t *data = NULL;
    size_t len = 0;
    incluster_result rc;
    while ((rc = incluster_exec_next(x, &ch, &data, &len, &e)) == INCLUSTER_OK) {
        strncat(ch == 1 ? out : err, (const char *)data, len < 32 ? len : 32);
    }
    if (rc != INCLUSTER_END || incluster_exec_exit_code(x, &code, &e) != INCLUSTER_OK) {
        fprintf(stderr, "exec: %s\n", e ? incluster_error_message(e) : "no end");
        return 1;
    }
    printf("exit=%d stdout=[%s] stderr=[%s]\n", code, out, err);
    incluster_exec_free(x);
    incluster_client_free(c);
    return 0;
}
