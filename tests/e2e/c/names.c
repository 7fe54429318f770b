/*
 * Resources by name from C against the real control plane (tests/e2e/test_names.py runs it in
 * the simulated pod).
 *
 *   names resolve WHAT NS|- all|one   print "PATH<TAB>KIND<TAB>namespaced" (KIND "-" for a path)
 *   names get WHAT                    GET WHAT (a path or a name), print the body
 *   names apply FILE                  server-side apply the manifest FILE, print the count
 *
 * On failure prints "error <result name>: <message>" on stdout and exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incluster.h"

static int fail(incluster_result rc, incluster_error *err) {
    printf("error %s: %s\n", incluster_result_name(rc),
           err ? incluster_error_message(err) : "(no details)");
    incluster_error_free(err);
    return 1;
}

static int resolve(incluster_client *c, const char *what, const char *ns, const char *all) {
    incluster_resolved *r = NULL;
    incluster_error *err = NULL;
    incluster_result rc = incluster_resolve(c, what, strcmp(ns, "-") == 0 ? NULL : ns,
                                            strcmp(all, "all") == 0, &r, &err);
    if (rc != INCLUSTER_OK) return fail(rc, err);
    const char *kind = incluster_resolved_get(r, INCLUSTER_RESOLVED_KIND);
    printf("%s\t%s\t%d\n", incluster_resolved_get(r, INCLUSTER_RESOLVED_PATH),
           kind ? kind : "-", incluster_resolved_namespaced(r));
    incluster_resolved_free(r);
    return 0;
}

static int get(incluster_client *c, const char *what) {
    incluster_response *resp = NULL;
    incluster_error *err = NULL;
    incluster_result rc = incluster_get(c, what, &resp, &err);
    if (rc != INCLUSTER_OK) return fail(rc, err);
    size_t len = 0;
    const uint8_t *body = incluster_response_body(resp, &len);
    fwrite(body, 1, len, stdout);
    printf("\n");
    incluster_response_free(resp);
    return 0;
}

static int apply(incluster_client *c, const char *file) {
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        perror(file);
        return 2;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf == NULL) return 2;
    size_t applied = 0;
    incluster_error *err = NULL;
    incluster_result rc =
        incluster_apply(c, (const uint8_t *)buf, n, "e2e-c", false, NULL, &applied, &err);
    free(buf);
    if (rc != INCLUSTER_OK) return fail(rc, err);
    printf("applied %zu\n", applied);
    return 0;
}

int main(int argc, char **argv) {
    incluster_client *c = NULL;
    incluster_error *err = NULL;
    if (incluster_client_new_in_cluster(&c, &err) != INCLUSTER_OK) return fail(INCLUSTER_ERR_CONFIG, err);
    int rc = 2;
    if (argc == 5 && strcmp(argv[1], "resolve") == 0) rc = resolve(c, argv[2], argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "get") == 0) rc = get(c, argv[2]);
    if (argc == 3 && strcmp(argv[1], "apply") == 0) rc = apply(c, argv[2]);
    if (rc == 2) fprintf(stderr, "usage: names resolve WHAT NS|- all|one | get WHAT | apply FILE\n");
    incluster_client_free(c);
    return rc;
}
