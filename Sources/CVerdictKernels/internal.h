#ifndef CVERDICT_INTERNAL_H
#define CVERDICT_INTERNAL_H
#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#define VK_X86 1
#define VK_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define VK_X86 0
#define VK_AVX2
#endif

#endif
