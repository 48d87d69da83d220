// Prints the generated key reference; scripts/gen-docs.sh splices it into docs/scenario.md.
#include <cstdio>

#include "scenario_reference.hpp"

int main() {
  std::fputs(mnsim::tools::scenario_reference_markdown().c_str(), stdout);
  return 0;
}
