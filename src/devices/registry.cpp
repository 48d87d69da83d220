#include "devices/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace mnsim::devices {

// The shipped kinds: name_kind() of each line of kinds.def.
#define MNSIM_DEVICE_KIND(name) DeviceKind name##_kind();
#include "devices/kinds.def"
#undef MNSIM_DEVICE_KIND

namespace {
std::vector<DeviceKind>& registry() {
  static std::vector<DeviceKind> kinds = {
#define MNSIM_DEVICE_KIND(name) name##_kind(),
#include "devices/kinds.def"
#undef MNSIM_DEVICE_KIND
  };
  return kinds;
}
}  // namespace

const std::vector<DeviceKind>& device_kinds() {
  return registry();
}

const DeviceKind* find_device_kind(const std::string& name) {
  for (const auto& k : registry()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

void register_device_kind(DeviceKind kind) {
  if (find_device_kind(kind.name)) {
    throw std::logic_error("internal: device kind '" + kind.name + "' registered twice");
  }
  registry().push_back(std::move(kind));
}

std::vector<std::string> device_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : registry()) out.push_back(k.name);
  return out;
}

double Resolver::quantity(const std::string& key, Dim d) const {
  if (s_.has(key)) return s_.quantity(key);
  if (e_.has(key)) return e_.quantity(key, d);
  missing(key);
}

long long Resolver::integer(const std::string& key) const {
  if (s_.has(key)) return s_.integer(key);
  if (e_.has(key)) return e_.integer(key);
  missing(key);
}

std::string Resolver::text(const std::string& key) const {
  if (s_.has(key)) return s_.text(key);
  if (e_.has(key)) return e_.text(key);
  missing(key);
}

void Resolver::missing(const std::string& key) const {
  s_.fail(key, fmt::format("not set, and model '{}' does not define it", e_.id()),
          fmt::format("give {} here", s_.key_path(key)));
}

void Resolver::common_needle(mechanics::NeedleGeometry& g, std::string& material) const {
  g.diameter = quantity("needle_diameter", Dim::Length);
  g.tip_radius = quantity("tip_radius", Dim::Length);
  g.tip_angle = quantity("tip_angle", Dim::Angle);
  material = text("material");
  if (!(g.tip_radius < 0.5 * g.diameter)) {
    s_.fail("tip_radius",
            fmt::format("tip radius {:.3g} um is not below the needle radius {:.3g} um",
                        g.tip_radius * 1e6, 0.5 * g.diameter * 1e6),
            "a tip radius smaller than half the needle diameter");
  }
}

std::unique_ptr<Device> make_device(const DeviceSpec& spec, const DeviceCatalog& catalog) {
  const Settings& s = spec.settings;
  const DeviceKind* kind = find_device_kind(spec.kind);
  if (!kind) {
    std::string list;
    for (const auto& n : device_kind_names()) list += (list.empty() ? "" : ", ") + n;
    s.fail("kind", fmt::format("unknown device kind '{}'", spec.kind), "one of " + list);
  }
  const std::string model = spec.model.empty() ? kind->default_model : spec.model;
  const io::SourcedEntry* e = catalog.find(model);
  if (!e) {
    const auto ids = catalog.ids();
    const std::string guess = schema::suggest(model, ids);
    std::string list;
    for (const auto& i : ids) list += (list.empty() ? "" : ", ") + i;
    s.fail("model", fmt::format("unknown device model '{}'", model),
           guess.empty() ? "one of " + list : fmt::format("did you mean '{}'?", guess));
  }
  const std::string& model_kind = e->text("kind");
  if (model_kind != spec.kind) {
    s.fail("model",
           fmt::format("model '{}' is a {}, but kind = \"{}\"", model, model_kind, spec.kind),
           fmt::format("set kind = \"{}\" or choose a {} model", model_kind, spec.kind));
  }
  return kind->make(Resolver(s, *e));
}

}  // namespace mnsim::devices

namespace mnsim::devices {

std::vector<Settings> search_settings(const io::SourcedEntry& entry) {
  const DeviceKind* k = find_device_kind(entry.text("kind"));
  std::vector<Settings> out;
  if (k && k->search_settings) out = k->search_settings(entry);
  if (out.empty()) out.emplace_back("device", SourceLoc{"<protocol search>", 1, 1});
  return out;
}

}  // namespace mnsim::devices
