// Cohort, planner and validation files repeat keys of the scenario language (a patient's age, a
// course's sessions, a roller's needle length): they take them from the same schema sections the
// scenario is assembled from, so ranges, units and choices cannot drift apart.
#pragma once

#include <string>

#include "core/schema.hpp"

namespace mnsim::protocol {

/// A copy of the scenario key at `path` ("patient.age", "course.sessions", "seed", a variant's
/// key as "device.needle_length@roller") under another name, default and description
/// (schema::mirror). Throws std::logic_error for a path the mirrored sections do not have.
schema::Key mirror_key(const std::string& path, std::string name, const std::string& def,
                       std::string doc);

}  // namespace mnsim::protocol
