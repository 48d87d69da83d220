// Uses the installed libmnsim as any program would: parses a quantity with its unit and loads the
// installed site atlas (tests/package/run.sh).
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "core/units.hpp"
#include "skin/atlas.hpp"

int main() {
  const mnsim::ParsedQuantity q = mnsim::parse_quantity("1.5 mm", mnsim::Dim::Length);
  if (!q.ok()) {
    std::fprintf(stderr, "consumer: %s\n", q.error.c_str());
    return 1;
  }
  try {
    const auto atlas = mnsim::skin::Atlas::load(std::string(CONSUMER_DATA_DIR) + "/sites.toml");
    const auto cheek = atlas.make_profile("medial_cheek", 30.0, mnsim::skin::Sex::Female, 3);
    std::printf("1.5 mm = %g m\n", q.si);
    std::printf("%zu sites in %s\n", atlas.sites().size(), atlas.path().c_str());
    std::printf("medial_cheek dermis %.0f um\n", (cheek.thickness[2] + cheek.thickness[3]) * 1e6);
  } catch (const mnsim::InputError& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
