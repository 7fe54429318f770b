/*
 * incluster_wait from C against the real control plane (tests/e2e/test_wait.py runs it in the
 * simulated pod):
 *
 *   wait TARGET [KEY VALUE]...   incluster_wait(TARGET, {KEY, VALUE, ..., NULL})
 *
 * Prints "name<TAB>condition[,condition...]" per object that met the conditions and exits 0;
 * on failure prints "RESULT_NAME: message" on stderr and exits 7 (INCLUSTER_ERR_WAIT_TIMEOUT),
 * 8 (INCLUSTER_ERR_UNMEETABLE) or 1 (anything else), as the CLI does.
 */
#include <stdio.h>
#include <string.h>

#include "incluster.h"

int main(int argc, char **argv) {
    if (argc < 2 || argc % 2 != 0) {
        fprintf(stderr, "usage: wait TARGET [KEY VALUE]...\n");
        return 2;
    }
    incluster_client *c = NULL;
    incluster_error *err = NULL;
    if (incluster_client_new_in_cluster(&c, &err) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(err));
        incluster_error_free(err);
        return 1;
    }
    incluster_wait_result *r = NULL;
    /* argv[argc] is NULL: the pairs after TARGET are already a NULL-terminated array. */
    incluster_result rc = incluster_wait(c, argv[1], (const char *const *)(argv + 2), NULL, &r,
                                         &err);
    int exit_code = 0;
    if (rc == INCLUSTER_OK) {
        for (size_t i = 0; i < incluster_wait_result_count(r); i++) {
            size_t len = 0;
            const uint8_t *obj = incluster_wait_result_object(r, i, &len);
            char *name = NULL;
            incluster_json_get_string(obj, len, "/metadata/name", &name, NULL);
            printf("%s\t", name ? name : "");
            incluster_string_free(name);
            for (size_t j = 0; incluster_wait_result_met(r, i, j) != NULL; j++) {
                printf("%s%s", j ? "," : "", incluster_wait_result_met(r, i, j));
            }
            printf("\n");
        }
    } else {
        fprintf(stderr, "%s: %s\n", incluster_result_name(rc), incluster_error_message(err));
        exit_code = rc == INCLUSTER_ERR_WAIT_TIMEOUT ? 7 : rc == INCLUSTER_ERR_UNMEETABLE ? 8 : 1;
    }
    incluster_wait_result_free(r);
    incluster_error_free(err);
    incluster_client_free(c);
    return exit_code;
}
