/*
 * exec through the C API against the test server (which runs the command): pull form with
 * the exit code and streams apart, callback form with stdin written from another thread and
 * closed, cancel from another thread, errors. Run by tests/c_api.rs (also under valgrind).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define FEED_BYTES (256 * 1024)

struct feed {
    incluster_exec_handle *x;
    incluster_result rc;
};

/* Writes FEED_BYTES of a known pattern to the command's stdin, then closes it. */
static void *feeder(void *arg) {
    struct feed *f = arg;
    unsigned char buf[4096];
    for (size_t off = 0; off < FEED_BYTES; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)((off + i) % 251);
        f->rc = incluster_exec_write(f->x, buf, sizeof buf, NULL);
        if (f->rc != INCLUSTER_OK) return NULL;
    }
    f->rc = incluster_exec_close_stdin(f->x, NULL);
    return NULL;
}

struct got {
    size_t n;
    int bad;
};

static int on_output(void *ud, int channel, const uint8_t *data, size_t len) {
    struct got *g = ud;
    if (channel != 1) g->bad = 1;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != (unsigned char)((g->n + i) % 251)) g->bad = 1;
    }
    g->n += len;
    return INCLUSTER_CONTINUE;
}

static void *cancel_later(void *arg) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    incluster_exec_cancel(arg);
    return NULL;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }

    /* Pull form: exit code 3, stdout and stderr apart. */
    const char *script[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    incluster_exec_handle *x = NULL;
    incluster_result rc = incluster_exec_open(c, NULL, "web", script, NULL, &x, &e);
    CHECK(rc == INCLUSTER_OK, "exec open");
    char out[64] = "", err[64] = "";
    int ch = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    while ((rc = incluster_exec_next(x, &ch, &data, &len, &e)) == INCLUSTER_OK) {
        char *dst = ch == 1 ? out : err;
        strncat(dst, (const char *)data, len < 32 ? len : 32);
    }
    CHECK(rc == INCLUSTER_END, "exec ends");
    CHECK(strcmp(out, "out\n") == 0, "stdout");
    CHECK(strcmp(err, "err\n") == 0, "stderr");
    int code = -1;
    CHECK(incluster_exec_exit_code(x, &code, &e) == INCLUSTER_OK && code == 3, "exit code 3");
    incluster_exec_free(x);

    /* Callback form: stdin from another thread through cat, closed, every byte back. */
    const char *cat[] = {"cat", NULL};
    const char *with_stdin[] = {"stdin", "true", NULL};
    x = NULL;
    rc = incluster_exec_open(c, NULL, "web", cat, with_stdin, &x, &e);
    CHECK(rc == INCLUSTER_OK, "cat open");
    struct feed f = {x, INCLUSTER_OK};
    pthread_t t;
    pthread_create(&t, NULL, feeder, &f);
    struct got g = {0, 0};
    rc = incluster_exec_run(x, on_output, &g, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_END, "cat run ends");
    CHECK(f.rc == INCLUSTER_OK, "stdin written and closed");
    CHECK(g.n == FEED_BYTES && !g.bad, "every byte back in order");
    code = -1;
    CHECK(incluster_exec_exit_code(x, &code, &e) == INCLUSTER_OK && code == 0, "cat exit 0");
    incluster_exec_free(x);

    /* Cancel from another thread ends a blocked read. */
    const char *sleeper[] = {"sleep", "30", NULL};
    x = NULL;
    rc = incluster_exec_open(c, NULL, "web", sleeper, NULL, &x, &e);
    CHECK(rc == INCLUSTER_OK, "sleep open");
    pthread_create(&t, NULL, cancel_later, x);
    rc = incluster_exec_next(x, &ch, &data, &len, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "cancelled");
    incluster_error_free(e);
    e = NULL;
    incluster_exec_free(x);

    /* A refused upgrade names the RBAC verb. */
    const char *t_true[] = {"true", NULL};
    x = NULL;
    rc = incluster_exec_open(c, NULL, "fault-forbidden", t_true, NULL, &x, &e);
    CHECK(rc == INCLUSTER_ERR_FORBIDDEN && x == NULL, "403");
    CHECK(e && strstr(incluster_error_message(e), "`create` on `pods/exec`"), "403 message");
    incluster_error_free(e);
    e = NULL;

    /* A v4-only server cannot close stdin: a clear error. */
    rc = incluster_exec_open(c, NULL, "v4-pod", cat, with_stdin, &x, &e);
    CHECK(rc == INCLUSTER_OK, "v4 open");
    rc = incluster_exec_close_stdin(x, &e);
    CHECK(rc == INCLUSTER_ERR_INVALID_ARGUMENT, "v4 close refused");
    CHECK(e && strstr(incluster_error_message(e), "v4.channel.k8s.io"), "v4 message");
    incluster_error_free(e);
    e = NULL;
    incluster_exec_free(x);

    /* NULL and bad arguments. */
    x = NULL;
    CHECK(incluster_exec_open(c, NULL, "web", NULL, NULL, &x, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT, "NULL command");
    const char *bad_opt[] = {"bogus", "1", NULL};
    CHECK(incluster_exec_open(c, NULL, "web", t_true, bad_opt, &x, NULL) ==
              INCLUSTER_ERR_INVALID_ARGUMENT, "unknown option");
    CHECK(incluster_exec_next(NULL, &ch, &data, &len, NULL) == INCLUSTER_ERR_NULL_ARGUMENT,
          "NULL session");
    incluster_exec_cancel(NULL);
    incluster_exec_free(NULL);

    incluster_client_free(c);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
