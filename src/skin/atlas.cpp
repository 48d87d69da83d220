#include "skin/atlas.hpp"

#include <fmt/format.h>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace mnsim::skin {

namespace {

const std::array<const char*, kLayers> kLayerKeys = {
    "stratum_corneum", "viable_epidermis", "papillary_dermis", "reticular_dermis", "hypodermis"};

struct Limits {
  Dim dim;
  double lo, hi;
};

Limits composition_limits(std::size_t c) {
  switch (c) {
    case 0:
    case 1:
    case 2:
      return {Dim::Concentration, 0.0, 1000.0};  // kg/m^3: at most wet tissue density
    case 3:
      return {Dim::VolumeDensity, 0.0, 1e15};  // cells/m^3 (1e6 /mm^3 = packed cells)
    default:
      return {Dim::Fraction, 0.0, 1.0};
  }
}
}  // namespace

std::string_view sex_name(Sex s) {
  return s == Sex::Male ? "male" : "female";
}

Atlas Atlas::load(const std::string& path) {
  const io::DataFile f(path);
  Atlas a;
  a.path_ = path;
  const toml::table& root = f.root();
  f.check_keys(root, "", {"modifiers", "defaults", "sites"});

  // Modifiers.
  const toml::table& mods = f.table(root, "", "modifiers");
  f.check_keys(mods, "modifiers", {"age", "sex", "fitzpatrick", "photoageing"});
  const toml::table& age = f.table(mods, "modifiers", "age");
  f.check_keys(age, "modifiers.age",
               {"reference_age", "epidermis_loss_per_decade_male",
                "epidermis_loss_per_decade_female", "dermis_loss_per_decade", "minimum_factor"});
  a.age_.reference_age =
      f.value(age, "modifiers.age", "reference_age", Dim::Time, 0.0, 120 * kYear);
  a.age_.epidermis_loss_male =
      f.value(age, "modifiers.age", "epidermis_loss_per_decade_male", Dim::Fraction, 0, 0.5);
  a.age_.epidermis_loss_female =
      f.value(age, "modifiers.age", "epidermis_loss_per_decade_female", Dim::Fraction, 0, 0.5);
  a.age_.dermis_loss =
      f.value(age, "modifiers.age", "dermis_loss_per_decade", Dim::Fraction, 0, 0.5);
  a.age_.minimum_factor = f.value(age, "modifiers.age", "minimum_factor", Dim::Fraction, 0.05, 1);
  const toml::table& sex = f.table(mods, "modifiers", "sex");
  f.check_keys(sex, "modifiers.sex", {"epidermis_male_factor"});
  a.male_epidermis_ = f.value(sex, "modifiers.sex", "epidermis_male_factor", Dim::Number, 0.5, 2.0);
  const toml::table& fitz = f.table(mods, "modifiers", "fitzpatrick");
  f.check_keys(fitz, "modifiers.fitzpatrick",
               {"type_1", "type_2", "type_3", "type_4", "type_5", "type_6"});
  for (int t = 1; t <= 6; ++t) {
    a.fitz_[static_cast<std::size_t>(t - 1)] =
        f.value(fitz, "modifiers.fitzpatrick", fmt::format("type_{}", t), Dim::Number, 0.1, 20.0);
  }
  const toml::table& photo = f.table(mods, "modifiers", "photoageing");
  std::vector<std::string> glogau_keys;
  for (int t = 1; t <= kGlogauTypes; ++t) glogau_keys.push_back(fmt::format("type_{}", t));
  f.check_keys(photo, "modifiers.photoageing", glogau_keys);
  for (int t = 1; t <= kGlogauTypes; ++t) {
    const std::string where = fmt::format("modifiers.photoageing.type_{}", t);
    const toml::table& g = f.table(photo, "modifiers.photoageing", fmt::format("type_{}", t));
    f.check_keys(g, where, {"collagen1", "collagen3", "elastin"});
    PhotoageingModifier& m = a.photo_[static_cast<std::size_t>(t - 1)];
    m.collagen1 = f.value(g, where, "collagen1", Dim::Fraction, 0.05, 2.0);
    m.collagen3 = f.value(g, where, "collagen3", Dim::Fraction, 0.05, 2.0);
    m.elastin = f.value(g, where, "elastin", Dim::Fraction, 0.05, 5.0);
  }

  // Defaults.
  const toml::table& defs = f.table(root, "", "defaults");
  std::vector<std::string> def_keys = {"stratum_corneum", "papillary_fraction",
                                       "melanocyte_density", "tension", "composition"};
  for (const char* l : kLayerKeys) def_keys.push_back(std::string("youngs_") + l);
  f.check_keys(defs, "defaults", def_keys);
  SiteEntry base;
  base.stratum_corneum =
      f.value(defs, "defaults", "stratum_corneum", Dim::Length, 1 * kUm, 200 * kUm);
  base.papillary_fraction =
      f.value(defs, "defaults", "papillary_fraction", Dim::Fraction, 0.01, 0.9);
  base.melanocyte_density =
      f.value(defs, "defaults", "melanocyte_density", Dim::AreaDensity, 0.0, 1e10);
  base.tension = f.value(defs, "defaults", "tension", Dim::Tension, 0.0, 1000.0);
  for (std::size_t l = 0; l < kLayers; ++l) {
    base.youngs[l] =
        f.value(defs, "defaults", std::string("youngs_") + kLayerKeys[l], Dim::Pressure, 1.0, 1e10);
  }
  const toml::table& comp = f.table(defs, "defaults", "composition");
  f.check_keys(comp, "defaults.composition",
               std::vector<std::string>(kLayerKeys.begin(), kLayerKeys.end()));
  for (std::size_t l = 0; l < kLayers; ++l) {
    const std::string where = std::string("defaults.composition.") + kLayerKeys[l];
    const toml::table& lt = f.table(comp, "defaults.composition", kLayerKeys[l]);
    f.check_keys(lt, where,
                 std::vector<std::string>(kCompositionKeys.begin(), kCompositionKeys.end()));
    for (std::size_t c = 0; c < kCompositionKeys.size(); ++c) {
      const Limits lim = composition_limits(c);
      base.composition[l][c] = f.value(lt, where, kCompositionKeys[c], lim.dim, lim.lo, lim.hi);
    }
  }

  // Sites.
  const toml::table& sites = f.table(root, "", "sites");
  if (sites.empty()) f.fail(sites, "sites", "no sites", "at least one [sites.<key>] table");
  // toml++ iterates keys alphabetically: restore file order for listings.
  std::vector<std::pair<std::string, const toml::node*>> ordered;
  for (auto&& [k, node] : sites) ordered.emplace_back(std::string(k.str()), &node);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& l, const auto& r) {
    return l.second->source().begin.line < r.second->source().begin.line;
  });
  for (const auto& [key, nodep] : ordered) {
    const toml::node& node = *nodep;
    const std::string where = "sites." + key;
    if (!node.is_table()) f.fail(node, where, "expected a table", "a [" + where + "] table");
    const toml::table& st = *node.as_table();
    f.check_keys(st, where,
                 {"name", "epidermis", "stratum_corneum", "dermis_female", "dermis_male",
                  "papillary_fraction", "melanocyte_density", "tension"});
    SiteEntry e = base;
    e.key = key;
    const toml::node* name = st.get("name");
    if (!name || !name->is_string() || name->as_string()->get().empty()) {
      throw InputError(name ? f.loc(*name) : f.loc(st), where + ".name",
                       "missing or empty display name", "name = \"medial cheek\"");
    }
    e.name = name->as_string()->get();
    e.epidermis = f.value(st, where, "epidermis", Dim::Length, 5 * kUm, 500 * kUm);
    e.dermis_female = f.value(st, where, "dermis_female", Dim::Length, 0.1 * kMm, 6 * kMm);
    e.dermis_male = f.value(st, where, "dermis_male", Dim::Length, 0.1 * kMm, 6 * kMm);
    f.optional_value(st, where, "stratum_corneum", Dim::Length, 1 * kUm, 200 * kUm,
                     e.stratum_corneum);
    f.optional_value(st, where, "papillary_fraction", Dim::Fraction, 0.01, 0.9,
                     e.papillary_fraction);
    f.optional_value(st, where, "melanocyte_density", Dim::AreaDensity, 0.0, 1e10,
                     e.melanocyte_density);
    f.optional_value(st, where, "tension", Dim::Tension, 0.0, 1000.0, e.tension);
    a.sites_.push_back(std::move(e));
  }
  return a;
}

std::vector<std::string> Atlas::site_keys() const {
  std::vector<std::string> out;
  for (const auto& s : sites_) out.push_back(s.key);
  return out;
}

const SiteEntry* Atlas::find(const std::string& key) const {
  for (const auto& s : sites_) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

const io::DataValue& Atlas::fitzpatrick_activity(int type) const {
  if (type < 1 || type > 6) throw std::out_of_range("Fitzpatrick type must be 1..6");
  return fitz_[static_cast<std::size_t>(type - 1)];
}

const PhotoageingModifier& Atlas::photoageing(int glogau) const {
  if (glogau < 1 || glogau > kGlogauTypes) throw std::out_of_range("Glogau type must be 1..4");
  return photo_[static_cast<std::size_t>(glogau - 1)];
}

void Atlas::photoage(SkinProfile& p, int glogau) const {
  if (glogau == 0) return;
  const PhotoageingModifier& m = photoageing(glogau);
  for (const Layer l : {Layer::PapillaryDermis, Layer::ReticularDermis}) {
    Composition& c = p.composition[static_cast<std::size_t>(layer_index(l))];
    c.collagen1 *= m.collagen1.si;
    c.collagen3 *= m.collagen3.si;
    c.elastin *= m.elastin.si;
  }
}

double Atlas::age_factor(double age_years, Sex sex, bool epidermis) const {
  const double ref = age_.reference_age.si / kYear;
  if (age_years <= ref) return 1.0;
  const double loss =
      epidermis ? (sex == Sex::Male ? age_.epidermis_loss_male.si : age_.epidermis_loss_female.si)
                : age_.dermis_loss.si;
  return std::max(age_.minimum_factor.si, 1.0 - loss * (age_years - ref) / 10.0);
}

SkinProfile Atlas::make_profile(const std::string& site, double age_years, Sex sex, int fitzpatrick,
                                double hypodermis, int glogau) const {
  const SiteEntry* e = find(site);
  if (!e) throw std::out_of_range("internal: unknown site '" + site + "'");
  SkinProfile p;
  p.site = e->key;
  const double fe = age_factor(age_years, sex, true);
  const double fd = age_factor(age_years, sex, false);
  const double ve = e->epidermis.si * (sex == Sex::Male ? male_epidermis_.si : 1.0) * fe;
  const double dermis = (sex == Sex::Male ? e->dermis_male.si : e->dermis_female.si) * fd;
  const double pap = dermis * e->papillary_fraction.si;
  p.thickness = {e->stratum_corneum.si, ve, pap, dermis - pap, hypodermis};
  for (std::size_t l = 0; l < kLayers; ++l) {
    p.youngs_modulus[l] = e->youngs[l].si;
    Composition& c = p.composition[l];
    c.collagen1 = e->composition[l][0].si;
    c.collagen3 = e->composition[l][1].si;
    c.elastin = e->composition[l][2].si;
    c.fibroblasts = e->composition[l][3].si;
    c.vascular = e->composition[l][4].si;
  }
  p.tension = e->tension.si;
  p.plexus_depth = p.bottom_of(Layer::PapillaryDermis);
  p.melanocyte_depth = p.bottom_of(Layer::ViableEpidermis);
  p.melanocyte_density = e->melanocyte_density.si;
  p.melanocyte_activity = fitzpatrick_activity(fitzpatrick).si;
  p.fitzpatrick = fitzpatrick;
  photoage(p, glogau);
  return p;
}

std::string default_atlas_path() {
  return data_file("sites.toml").string();
}

const Atlas& default_atlas() {
  static const Atlas a = Atlas::load(default_atlas_path());
  return a;
}

}  // namespace mnsim::skin
