/*
 * Port-forward through the C API against the test server (which connects to 127.0.0.1:PORT,
 * where this program runs an echo server): pull and callback forms, write from another
 * thread, the listener, cancel, errors. Run by tests/c_api.rs (also under valgrind).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static void *echo_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        if (write(fd, buf, (size_t)n) != n) break;
    }
    close(fd);
    return NULL;
}

/* The echo server's threads, joined at the end so nothing is left running. */
static pthread_t conns[64];
static int n_conns = 0;
static pthread_t acceptor;
static int srv = -1;

static void *echo_accept(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) return NULL;
        if (n_conns == 64) {
            close(fd);
            continue;
        }
        pthread_create(&conns[n_conns++], NULL, echo_conn, (void *)(intptr_t)fd);
    }
}

static void echo_stop(void) {
    shutdown(srv, SHUT_RDWR);
    pthread_join(acceptor, NULL);
    close(srv);
    for (int i = 0; i < n_conns; i++) pthread_join(conns[i], NULL);
}

static int echo_server(void) {
    srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(srv, (struct sockaddr *)&a, len) != 0 || listen(srv, 16) != 0) return -1;
    getsockname(srv, (struct sockaddr *)&a, &len);
    pthread_create(&acceptor, NULL, echo_accept, NULL);
    return ntohs(a.sin_port);
}

#define TOTAL (64 * 1024)

static void *writer(void *arg) {
    unsigned char buf[1024];
    memset(buf, 'z', sizeof buf);
    for (int i = 0; i < TOTAL / 1024; i++) {
        if (incluster_port_forward_write(arg, buf, sizeof buf, NULL) != INCLUSTER_OK) break;
    }
    return NULL;
}

struct count {
    size_t n;
    int bad;
};

static int on_data(void *ud, const uint8_t *data, size_t len) {
    struct count *c = ud;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != 'z') c->bad = 1;
    }
    c->n += len;
    return c->n >= TOTAL ? INCLUSTER_STOP : INCLUSTER_CONTINUE;
}

static void *cancel_later(void *arg) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    incluster_port_forward_cancel(arg);
    return NULL;
}

int main(void) {
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "client: %s\n", incluster_error_message(e));
        return 1;
    }
    int port = echo_server();
    CHECK(port > 0, "echo server");

    /* Pull form. */
    incluster_port_forward *pf = NULL;
    CHECK(incluster_port_forward_open(c, NULL, "web", (uint16_t)port, &pf, &e) == INCLUSTER_OK,
          "open");
    CHECK(incluster_port_forward_write(pf, (const uint8_t *)"hello", 5, &e) == INCLUSTER_OK,
          "write");
    char got[16] = "";
    size_t have = 0;
    while (have < 5) {
        size_t n = 0;
        if (incluster_port_forward_read(pf, (uint8_t *)got + have, sizeof got - 1 - have, &n,
                                        &e) != INCLUSTER_OK)
            break;
        have += n;
    }
    CHECK(have == 5 && memcmp(got, "hello", 5) == 0, "echoed");

    /* Callback form, with the writes from another thread. */
    pthread_t t;
    pthread_create(&t, NULL, writer, pf);
    struct count cnt = {0, 0};
    incluster_result rc = incluster_port_forward_run(pf, on_data, &cnt, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_STOPPED && cnt.n == TOTAL && !cnt.bad, "callback got every byte");

    /* Cancel from another thread ends a blocked read. */
    pthread_create(&t, NULL, cancel_later, pf);
    size_t n = 0;
    rc = incluster_port_forward_read(pf, (uint8_t *)got, sizeof got, &n, &e);
    pthread_join(t, NULL);
    CHECK(rc == INCLUSTER_ERR_CANCELLED, "cancelled");
    incluster_error_free(e);
    e = NULL;
    incluster_port_forward_free(pf);

    /* The listener. */
    incluster_forwarder *f = NULL;
    CHECK(incluster_port_forward_listen(c, NULL, "web", 0, (uint16_t)port, &f, &e) ==
              INCLUSTER_OK, "listen");
    uint16_t local = incluster_forwarder_local_port(f);
    CHECK(local != 0, "local port");
    for (int i = 0; i < 5; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(local);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "ping", 4) == 4;
        char b[8] = "";
        ssize_t r = 0, k;
        while (ok && r < 4 && (k = read(fd, b + r, (size_t)(4 - r))) > 0) r += k;
        CHECK(ok && r == 4 && memcmp(b, "ping", 4) == 0, "through the listener");
        close(fd);
    }
    incluster_forwarder_free(f);

    /* Errors: 403 names the verb; NULL arguments. */
    pf = NULL;
    rc = incluster_port_forward_open(c, NULL, "fault-forbidden", 80, &pf, &e);
    CHECK(rc == INCLUSTER_ERR_FORBIDDEN && pf == NULL, "403");
    CHECK(e && strstr(incluster_error_message(e), "pods/portforward"), "403 message");
    incluster_error_free(e);
    e = NULL;
    CHECK(incluster_port_forward_open(c, NULL, NULL, 80, &pf, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT, "NULL pod");
    CHECK(incluster_port_forward_read(NULL, (uint8_t *)got, 1, &n, NULL) ==
              INCLUSTER_ERR_NULL_ARGUMENT, "NULL pf");
    CHECK(incluster_forwarder_local_port(NULL) == 0, "NULL forwarder");
    incluster_port_forward_cancel(NULL);
    incluster_port_forward_free(NULL);
    incluster_forwarder_free(NULL);

    incluster_client_free(c);
    echo_stop();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
