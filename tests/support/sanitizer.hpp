// Whether the tests are compiled for a sanitizer build (the asan preset: AddressSanitizer and
// UndefinedBehaviorSanitizer at -O1; whole-run tests take 8-19 times their release time).
//
// A few whole-run tests repeat one code path many times to check a numerical or statistical
// property (convergence under a tighter tolerance, 25 kills at random moments, a race tried three
// times). Under the sanitizers they run the same code paths fewer times: what a sanitizer can find
// (a bad access, a leak, undefined behaviour) is found in the first pass as well as in the tenth.
// The release run (scripts/test.sh, the first stage of .ci/run) keeps every repetition and every
// bound; docs/reliability.md, "CI (.ci/run) and where its time goes", lists what is shortened.
#pragma once

namespace mnsim::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace mnsim::test
