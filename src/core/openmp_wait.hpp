// How the OpenMP threads of a run wait at a barrier or for the next parallel region (docs/cli.md,
// "Environment"; docs/numerics.md, "How waiting threads wait").
#pragma once

#include <string>

namespace mnsim {

/// libgomp's spins before a waiting thread sleeps, when the user chooses no wait policy: about
/// 70 us on the machine it was measured on (24 ns per spin). Short enough that two mnsim
/// processes sharing the cores lose little to each other's spinning; long enough to catch most
/// of a step's waits on an idle machine, which the passive policy pays for with a sleep and a
/// wake-up each (docs/numerics.md).
inline constexpr const char* kDefaultSpinCount = "3000";

/// Sets GOMP_SPINCOUNT to kDefaultSpinCount in this process's environment when neither
/// OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set (set to anything, even empty: the user's choice);
/// true when it did. libgomp reads its settings when it loads, so a program that gets true
/// starts itself again (apps/mnsim/main.cpp); a Python module sets it before loading the runtime.
bool set_default_openmp_wait();

/// The wait settings in this process's environment, as recorded in each output's metadata:
/// "GOMP_SPINCOUNT=3000", "OMP_WAIT_POLICY=passive", both (comma-separated) or "libgomp
/// default" when neither is set.
std::string openmp_wait();

}  // namespace mnsim
