// Preloaded by scripts/tsan: librdkafka creates its threads with C11 thrd_create, which glibc >= 2.34 runs
// without calling pthread_create, so ThreadSanitizer would not know them (and crashes when one allocates).
// These route the C11 thread calls through the pthread functions the sanitizer intercepts.
#include <pthread.h>
#include <stdint.h>
#include <threads.h>

int thrd_create(thrd_t *thread, thrd_start_t start, void *arg) {
    return pthread_create((pthread_t *)thread, NULL, (void *(*)(void *))start, arg) == 0 ? thrd_success : thrd_error;
}

int thrd_join(thrd_t thread, int *result) {
    void *value;
    if (pthread_join((pthread_t)thread, &value) != 0) return thrd_error;
    if (result) *result = (int)(intptr_t)value;
    return thrd_success;
}

int thrd_detach(thrd_t thread) {
    return pthread_detach((pthread_t)thread) == 0 ? thrd_success : thrd_error;
}

_Noreturn void thrd_exit(int result) {
    pthread_exit((void *)(intptr_t)result);
}
