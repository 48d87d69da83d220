// The [output] section: which field snapshots a run stores in fields.h5.
#pragma once

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace mnsim {

schema::Key output_schema();

struct OutputPlan {
  bool before_sessions = true;
  bool after_sessions = true;
  bool end = true;
  double every = 0.0;               // s; 0 = no periodic snapshots
  std::vector<std::string> fields;  // healing fields stored in fields.h5
};

/// Reads [output]; `field_names` are the healing model's fields (for messages).
OutputPlan make_output_plan(const Table& output);

}  // namespace mnsim
