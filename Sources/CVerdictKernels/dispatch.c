#include "CVerdictKernels.h"
#include "internal.h"

static int forced_portable = 0;
static int detected = -1;

int vk_uses_avx2(void) {
    if (forced_portable) return 0;
    if (detected < 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        detected = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        detected = 0;
#endif
    }
    return detected;
}

void vk_force_portable(int portable) { forced_portable = portable; }
