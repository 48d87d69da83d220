#include "run/scenario_schema.hpp"

#include "devices/schema.hpp"
#include "healing/options.hpp"
#include "healing/substances.hpp"
#include "io/toml_file.hpp"
#include "lesions/factory.hpp"
#include "outcomes/face_inventory.hpp"
#include "protocol/course.hpp"
#include "run/output.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

namespace {
schema::Key build() {
  using namespace schema;
  Key root = table("", "a scenario", {}, true);
  root.children = {
      string("title", "", "Title shown in reports and summaries."),
      string("notes", "", "Free text kept with the results."),
      seed_key("Seed of every random draw (lesions, hand jitter, variability)."),
      skin::patient_schema(),
      skin::tissue_schema(),
      lesions::surface_schema(),
      lesions::lesions_schema(),
      lesions::inventory_schema(),
      devices::device_schema(),
      devices::technique_schema(),
      protocol::course_schema(),
      output_schema(),
      healing::numerics_schema(),
      healing::application_schema(),
      outcomes::face_schema(),  // last: the root's key list in messages stays as it was
  };
  return root;
}
}  // namespace

const schema::Key& scenario_schema() {
  static const schema::Key root = build();
  return root;
}

const schema::Key& scenario_key(const std::string& path) {
  return schema::find_key(scenario_schema(), path);
}

Table load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  return io::load_toml_file(path, scenario_schema(), "a TOML scenario file", overrides);
}

}  // namespace mnsim
