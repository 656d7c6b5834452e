/*
 * A wall-clock offset for one process tree, for chaos scenario 11 (LD_PRELOAD).
 *
 * The host clock is shared with everything else on the machine and is never changed; a time
 * namespace (CLONE_NEWTIME) offsets only CLOCK_MONOTONIC and CLOCK_BOOTTIME, and Debian's
 * libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC breaks clock_nanosleep(CLOCK_MONOTONIC,
 * TIMER_ABSTIME) (Python 3.11's time.sleep fails with EINVAL, libfaketime issue #426). So this
 * shim does exactly what an NTP step does to a process and nothing else: the REALTIME clocks
 * (clock_gettime, gettimeofday, time) read the host clock plus an offset; every other clock,
 * every sleep and every wait are the kernel's, untouched.
 *
 * The offset (int64 nanoseconds, native byte order) is read from the first 8 bytes of the file
 * named by VISTTER_WALLCLOCK_OFFSET_FILE, mapped shared, so the harness moves the clock at run
 * time by rewriting those 8 bytes; no file or a short file means offset 0. Statically linked
 * programs (the bundled ffmpeg) are not affected, as with any LD_PRELOAD library.
 *
 * Build: cc -shared -fPIC -O2 -o libwallclock.so wallclock_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile const int64_t *offset_ns;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void map_offset(void) {
    const char *path = getenv("VISTTER_WALLCLOCK_OFFSET_FILE");
    if (path == NULL) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(int64_t)) {
        void *mapped = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
        if (mapped != MAP_FAILED) offset_ns = (volatile const int64_t *)mapped;
    }
    close(fd);
}

static int64_t current_offset(void) {
    pthread_once(&once, map_offset);
    return offset_ns == NULL ? 0 : __atomic_load_n(offset_ns, __ATOMIC_RELAXED);
}

static int is_realtime(clockid_t clock_id) {
    return clock_id == CLOCK_REALTIME || clock_id == CLOCK_REALTIME_COARSE;
}

static void shift(struct timespec *ts, int64_t by) {
    int64_t ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + by;
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000L;
        ts->tv_sec -= 1;
    }
}

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t clock_id, struct timespec *ts) {
    static clock_gettime_fn real;
    if (real == NULL) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(clock_id, ts);
    if (rc == 0 && is_realtime(clock_id)) shift(ts, current_offset());
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    if (tz != NULL) {
        struct timezone *zone = tz;
        zone->tz_minuteswest = 0;
        zone->tz_dsttime = 0;
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL) *out = ts.tv_sec;
    return ts.tv_sec;
}
