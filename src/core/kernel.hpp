// Multiversioned hot kernels (README "Portable builds", docs/numerics.md "Portable builds").
//
// A release build targets a portable baseline (x86-64-v2: SSE4.2, any x86-64 CPU since about
// 2009). The loops that carry the run time (diffusion sweeps, reactions, chemotaxis, the reduced
// model's columns) are marked MNSIM_KERNEL: g++ compiles each of them twice, for the baseline and
// for x86-64-v3 (AVX2, FMA: wider vectors), and the dynamic loader picks the better version for
// the CPU once, when the program starts (an ifunc; GCC function multiversioning). Inline
// functions and lambdas called from a kernel are compiled into each version; OpenMP regions in a
// kernel are versioned with it.
//
// The library is built without implicit multiply-add fusion (-ffp-contract=off), so both versions
// perform the same IEEE operations on every value and their results are identical bit for bit; the
// version only changes the speed.
//
// Limits of g++: a virtual function cannot be multiversioned (mark the non-virtual function it
// calls), and a multiversioned function's address is that of its resolver.
#pragma once

#if defined(MNSIM_KERNEL_CLONES) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MNSIM_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
// The reaction step's kernels (healing/processes.cpp, healing/model.cpp) are compute bound (the
// exponentials and divisions of every cell): they have a third version for x86-64-v4 (AVX-512),
// which on a CPU with full-width AVX-512 units (AMD Zen 5) runs them about 1.3x faster than the
// AVX2 version (docs/numerics.md, "Reactions in AVX-512, prefetched"). The same IEEE
// operations on every value, so the same bits.
#define MNSIM_REACTION_KERNEL \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MNSIM_KERNEL
#define MNSIM_REACTION_KERNEL
#endif
