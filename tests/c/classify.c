/*
 * Prints, for each API path given as an argument, the result code of incluster_get on it in
 * the simulated pod: "PATH<TAB>RESULT_NAME<TAB>HTTP_STATUS<TAB>REASON". An argument
 * "wait:TARGET|FOR|FAIL_ON" (FAIL_ON may be empty) is an incluster_wait checked once instead. tests/error_classes.rs
 * compares these with the answers of the core, the CLI and Python for the same inputs.
 */
#include <stdio.h>
#include <string.h>

#include "incluster.h"

int main(int argc, char **argv) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        incluster_error_free(e);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        incluster_response *r = NULL;
        incluster_result rc;
        if (strncmp(argv[i], "wait:", 5) == 0) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", argv[i] + 5);
            char *cond = strchr(buf, '|');
            char *fail = cond ? strchr(cond + 1, '|') : NULL;
            if (!cond || !fail) return 2;
            *cond++ = 0;
            *fail++ = 0;
            const char *opts[] = {"for", cond, "timeoutMs", "0", *fail ? "failOn" : NULL, fail,
                                  NULL};
            incluster_wait_result *w = NULL;
            rc = incluster_wait(c, buf, opts, NULL, &w, &e);
            incluster_wait_result_free(w);
        } else {
            rc = incluster_get(c, argv[i], &r, &e);
        }
        printf("%s\t%s\t%u\t%s\n", argv[i], incluster_result_name(rc), incluster_error_status(e),
               incluster_error_reason(e));
        incluster_response_free(r);
        incluster_error_free(e);
        e = NULL;
    }
    incluster_client_free(c);
    return 0;
}
