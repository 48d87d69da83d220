#include "core/scenario_schema.hpp"

#include "devices/schema.hpp"

namespace mnsim {

namespace {
schema::Key build() {
  using namespace schema;
  Key root = table("", "a scenario", {}, true);
  root.children = {
      string("title", "", "Title shown in reports and summaries."),
      string("notes", "", "Free text kept with the results."),
      integer("seed", "1", "Seed of every random draw (lesions, hand jitter, variability).", 0,
              9007199254740991.0),
      devices::device_schema(),
      devices::technique_schema(),
  };
  return root;
}
}  // namespace

const schema::Key& scenario_schema() {
  static const schema::Key root = build();
  return root;
}

}  // namespace mnsim
