#include "protocol/mirror.hpp"

#include "devices/schema.hpp"
#include "lesions/factory.hpp"
#include "protocol/course.hpp"
#include "skin/tissue.hpp"

namespace mnsim::protocol {

namespace {
/// The scenario sections that other files mirror keys of (the same functions that build the
/// scenario's root, run/scenario_schema.cpp).
const schema::Key& mirrored_sections() {
  static const schema::Key root =
      schema::table("", "scenario sections mirrored by cohort, planner and validation files",
                    {schema::seed_key("seed"), skin::patient_schema(), lesions::lesions_schema(),
                     devices::device_schema(), devices::technique_schema(), course_schema()});
  return root;
}
}  // namespace

schema::Key mirror_key(const std::string& path, std::string name, const std::string& def,
                       std::string doc) {
  return schema::mirror(schema::find_key(mirrored_sections(), path), std::move(name), def,
                        std::move(doc));
}

}  // namespace mnsim::protocol
