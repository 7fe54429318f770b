/*
 * Field extraction from C: JSON Pointer (string, int, bool, absent), JSONPath templates, on a
 * buffer and on a response. Run by tests/c_api.rs (also under valgrind).
 */
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

static const char *DOC =
    "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"a/b\":\"x\"}},\"spec\":{\"replicas\":3,"
    "\"paused\":false},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
    "{\"type\":\"Scheduled\",\"status\":\"False\"}]}}";

int main(void) {
    const uint8_t *doc = (const uint8_t *)DOC;
    size_t len = strlen(DOC);
    char *s = NULL;
    incluster_error *e = NULL;

    CHECK(incluster_json_get_string(doc, len, "/metadata/name", &s, &e) == INCLUSTER_OK &&
              strcmp(s, "p1") == 0,
          "string by pointer");
    incluster_string_free(s);
    s = NULL;
    CHECK(incluster_json_get_string(doc, len, "/metadata/labels/a~1b", &s, NULL) == INCLUSTER_OK &&
              strcmp(s, "x") == 0,
          "escaped pointer");
    incluster_string_free(s);
    s = NULL;
    CHECK(incluster_json_get_string(doc, len, "/spec", &s, NULL) == INCLUSTER_OK &&
              strcmp(s, "{\"paused\":false,\"replicas\":3}") == 0,
          "objects as compact JSON");
    incluster_string_free(s);
    s = NULL;
    CHECK(incluster_json_get_string(doc, len, "/metadata/uid", &s, &e) == INCLUSTER_ABSENT &&
              s == NULL && e == NULL,
          "absent is distinct from an error");

    int64_t n = 0;
    CHECK(incluster_json_get_int(doc, len, "/spec/replicas", &n, NULL) == INCLUSTER_OK && n == 3,
          "int");
    CHECK(incluster_json_get_int(doc, len, "/metadata/name", &n, &e) == INCLUSTER_ERR_DECODE,
          "not an int");
    CHECK(strstr(incluster_error_message(e), "not an integer") != NULL, "type error says so");
    incluster_error_free(e);
    e = NULL;
    bool b = true;
    CHECK(incluster_json_get_bool(doc, len, "/spec/paused", &b, NULL) == INCLUSTER_OK && !b,
          "bool");
    CHECK(incluster_json_get_string(doc, len, "metadata", &s, &e) ==
              INCLUSTER_ERR_INVALID_ARGUMENT,
          "malformed pointer");
    CHECK(strstr(incluster_error_message(e), "position 0") != NULL, "position named");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_json_get_string((const uint8_t *)"{nope", 5, "/a", &s, NULL) ==
              INCLUSTER_ERR_DECODE,
          "not JSON");

    CHECK(incluster_jsonpath(doc, len, "{.status.conditions[?(@.type==\"Ready\")].status}", &s,
                             NULL) == INCLUSTER_OK &&
              strcmp(s, "True") == 0,
          "jsonpath filter");
    incluster_string_free(s);
    s = NULL;
    CHECK(incluster_jsonpath(doc, len,
                             "{range .status.conditions[*]}{.type}={.status}{\"\\n\"}{end}", &s,
                             NULL) == INCLUSTER_OK &&
              strcmp(s, "Ready=True\nScheduled=False\n") == 0,
          "jsonpath range");
    incluster_string_free(s);
    s = NULL;
    CHECK(incluster_jsonpath(doc, len, "{.a[", &s, &e) == INCLUSTER_ERR_INVALID_ARGUMENT,
          "malformed template");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_json_get_string(doc, len, "/x", NULL, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL out");

    /* On a real response. */
    incluster_client *c = NULL;
    incluster_response *r = NULL;
    if (incluster_client_new_in_cluster(&c, NULL) == INCLUSTER_OK &&
        incluster_get(c, "/version", &r, NULL) == INCLUSTER_OK) {
        CHECK(incluster_response_get_string(r, "/gitVersion", &s, NULL) == INCLUSTER_OK &&
                  strcmp(s, "v1.37.2-incluster-test") == 0,
              "pointer on a response");
        incluster_string_free(s);
    } else {
        CHECK(0, "client and GET /version");
    }
    incluster_response_free(r);
    incluster_client_free(c);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
