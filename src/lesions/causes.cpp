#include "lesions/causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/data_dir.hpp"
#include "lesions/registry.hpp"

namespace mnsim::lesions {

std::vector<double> ScarCause::class_means() const {
  const std::vector<std::string> all = inventory_classes();
  std::vector<double> out(all.size(), 0.0);
  for (const auto& [cls, share] : classes) {
    const auto it = std::find(all.begin(), all.end(), cls);
    if (it != all.end()) out[static_cast<std::size_t>(it - all.begin())] += scars.si * share.si;
  }
  return out;
}

ScarCauses ScarCauses::load(const std::string& path) {
  const io::DataFile f(path);
  ScarCauses c;
  c.path_ = path;
  const std::vector<std::string> classes = inventory_classes();
  for (const auto& [k, node] : f.root()) {
    const std::string name(k.str());
    const toml::table* t = node.as_table();
    if (t == nullptr) f.fail(node, name, "is not a table", "a [" + name + "] table");
    if (name == kAcneCause) {
      f.fail(node, name, "is the population's own scar mix ([population.scars])",
             "causes other than acne");
    }
    f.check_keys(*t, name, {"description", "scars", "classes"});
    ScarCause s;
    s.name = name;
    const auto* d = t->get_as<std::string>("description");
    if (d == nullptr) f.fail(node, name + ".description", "is missing", "a description string");
    s.description = d->get();
    s.scars = f.value(*t, name, "scars", Dim::Number, 0.0, 1000.0);
    const toml::table& ct = f.table(*t, name, "classes");
    f.check_keys(ct, name + ".classes", classes);
    double sum = 0.0;
    for (const auto& [ck, cn] : ct) {
      const std::string cls(ck.str());
      s.classes.emplace_back(cls, f.value(ct, name + ".classes", cls, Dim::Fraction, 0.0, 1.0));
      sum += s.classes.back().second.si;
    }
    if (std::abs(sum - 1.0) > 1e-6) {
      f.fail(node, name + ".classes", fmt::format("class shares sum to {:g}", sum),
             "shares that sum to 100 %");
    }
    c.causes_.push_back(std::move(s));
  }
  return c;
}

const ScarCause* ScarCauses::find(const std::string& name) const {
  for (const auto& c : causes_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string default_cause_data_path() {
  return data_file("causes.toml").string();
}

const ScarCauses& default_scar_causes() {
  static const ScarCauses c = ScarCauses::load(default_cause_data_path());
  return c;
}

std::vector<std::string> scar_cause_names() {
  std::vector<std::string> out{kAcneCause};
  for (const auto& c : default_scar_causes().causes()) out.push_back(c.name);
  return out;
}

}  // namespace mnsim::lesions
