/*
 * Watch throughput through the C API: consume N events of the benchmark stream with the
 * callback form, checking each is an ADDED/MODIFIED event with an object; print one JSON line
 * with events/s and MB/s of object JSON, and the peak RSS (the kernel's VmHWM: getrusage's
 * ru_maxrss would carry the peak of the process that started this one, across fork and exec).
 * Usage: watch_mbps N SIZE   (in a simulated pod)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incluster.h"

struct count {
    long events, target, bad;
    double bytes;
};

static int on_event(void *ud, const incluster_watch_event *ev) {
    struct count *c = ud;
    if ((strcmp(ev->type_, "ADDED") != 0 && strcmp(ev->type_, "MODIFIED") != 0) ||
        ev->object_len < 2 || ev->object[0] != '{')
        c->bad++;
    c->bytes += (double)ev->object_len;
    return ++c->events >= c->target ? INCLUSTER_STOP : INCLUSTER_CONTINUE;
}

/* VmHWM from /proc/self/status, in KiB (-1 if it cannot be read). */
static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    const char *size = argc > 2 ? argv[2] : "4096";
    char count[32];
    snprintf(count, sizeof count, "%ld", n);
    incluster_client *c = NULL;
    incluster_error *e = NULL;
    if (incluster_client_new_in_cluster(&c, &e) != INCLUSTER_OK) {
        fprintf(stderr, "%s\n", incluster_error_message(e));
        return 1;
    }
    const char *opts[] = {"n", count, "size", size, "incluster.resume", "false", NULL};
    struct count cnt = {0, n, 0, 0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    incluster_result rc = incluster_watch(c, "/_test/watchbench", opts, on_event, &cnt, &e);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("{\"events\":%ld,\"bad\":%ld,\"events_per_s\":%.0f,\"mb_per_s\":%.1f,"
           "\"max_rss_kb\":%ld,\"rc\":\"%s\"}\n",
           cnt.events, cnt.bad, (double)cnt.events / s, cnt.bytes / s / 1e6, peak_rss_kb(),
           incluster_result_name(rc));
    incluster_error_free(e);
    incluster_client_free(c);
    return cnt.events == n && cnt.bad == 0 ? 0 : 1;
}
