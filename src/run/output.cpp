#include "run/output.hpp"

#include <algorithm>

#include "core/constants.hpp"
#include "healing/kinetics.hpp"
#include "healing/params.hpp"

namespace mnsim {

namespace {
std::vector<std::string> healing_field_names() {
  std::vector<std::string> names;
  for (const auto& f : healing::healing_model().fields()) names.push_back(f.name);
  return names;
}
}  // namespace

schema::Key output_schema() {
  using namespace schema;
  return table(
      "output", "What a run stores besides summary.json, timeseries.csv and the report.",
      {
          enum_list("snapshots", {"before_sessions", "after_sessions", "end"},
                    "[\"before_sessions\", \"after_sessions\", \"end\"]",
                    "When fields.h5 gets a snapshot of the fields."),
          quantity("snapshot_every", Dim::Time, "days", "",
                   "Also a snapshot at every multiple of this time (optional).", kHour,
                   3 * 366 * kDay),
          enum_list("fields", healing_field_names(),
                    "[\"damage\", \"inflammatory_signal\", \"fibroblasts\", \"collagen3\", "
                    "\"collagen1\", \"elastin\", \"vascular\", \"melanin_excess\"]",
                    "Healing fields stored in each snapshot (docs/model.md lists them)."),
      });
}

OutputPlan make_output_plan(const Table& t) {
  OutputPlan p;
  const auto& when = t.list("snapshots");
  auto has = [&](const std::string& w) {
    return std::find(when.begin(), when.end(), w) != when.end();
  };
  p.before_sessions = has("before_sessions");
  p.after_sessions = has("after_sessions");
  p.end = has("end");
  if (t.has("snapshot_every")) p.every = t.quantity("snapshot_every");
  p.fields = t.list("fields");
  return p;
}

}  // namespace mnsim
