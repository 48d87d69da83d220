#include "healing/team.hpp"

namespace mnsim::healing {

namespace {
std::size_t min_cells = kThreadMinCellsDefault;
thread_local int team_depth = 0;
}  // namespace

std::size_t thread_min_cells() {
  return min_cells;
}

void set_thread_min_cells(std::size_t cells) {
  min_cells = cells;
}

bool in_team() {
  return team_depth > 0;
}

TeamMember::TeamMember() {
  ++team_depth;
}

TeamMember::~TeamMember() {
  --team_depth;
}

}  // namespace mnsim::healing
