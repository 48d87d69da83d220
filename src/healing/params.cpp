#include "healing/params.hpp"

#include "core/data_dir.hpp"
#include "io/sourced.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <cmath>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim::healing {

namespace {

SourceLoc loc_of(const toml::node& n, const std::string& file) {
  const auto& b = n.source().begin;
  return SourceLoc{file, static_cast<int>(b.line), static_cast<int>(b.column)};
}

}  // namespace

const std::vector<ParamInfo>& param_registry() {
  using P = Params;
  static const std::vector<ParamInfo> r = {
      {"injury", "channel_recoil", "1", 0.01, 1, &P::channel_recoil,
       "wound channel radius / needle radius"},
      {"injury", "halo_width", "um", 0, 1e3, &P::halo_width, "crush halo e-folding width"},
      {"injury", "halo_damage", "1", 0, 1, &P::halo_damage, "damage at the lumen wall"},
      {"injury", "tip_length", "um", 0, 1e4, &P::tip_length, "conical tip length"},
      {"injury", "matrix_loss", "1", 0, 1, &P::matrix_loss, "matrix destroyed in the lumen"},
      {"injury", "blood_fill", "1", 0, 1, &P::blood_fill, "lumen fraction filled by blood"},
      {"injury", "blood_growth_factor", "ng/mL", 0, 1e4, &P::blood_growth_factor,
       "TGF-b1 + PDGF-BB releasable from whole blood"},
      {"injury", "platelet_release", "1/h", 0, 1e3, &P::platelet_release,
       "platelet degranulation rate"},
      {"injury", "clot_lysis", "1/h", 0, 1e3, &P::clot_lysis, "basal fibrinolysis"},
      {"injury", "clot_lysis_macrophage", "1/h", 0, 1e3, &P::clot_lysis_macrophage,
       "clot removal per macrophage level"},
      {"barrier", "seal_rate", "1/h", 0, 1e3, &P::seal_rate, "sealing of the open channel"},
      {"barrier", "barrier_threshold", "1", 1e-6, 10, &P::barrier_threshold,
       "TEWL excess (of baseline) counted as recovered"},
      {"barrier", "vapour_diffusivity", "um^2/h", 1, 1e15, &P::vapour_diffusivity,
       "water vapour diffusivity in air"},
      {"barrier", "vapour_deficit", "g/m^3", 1e-3, 1e3, &P::vapour_deficit,
       "vapour density deficit over a wet channel"},
      {"barrier", "boundary_layer", "um", 1, 1e6, &P::boundary_layer, "still-air diffusion layer"},
      {"barrier", "tewl_baseline", "g/m^2/h", 1e-3, 1e3, &P::tewl_baseline,
       "baseline transepidermal water loss"},
      {"epidermis", "keratinocyte_motility", "um^2/h", 0, 1e7, &P::keratinocyte_motility,
       "keratinocyte random motility"},
      {"epidermis", "keratinocyte_mitosis", "1/h", 0, 1e2, &P::keratinocyte_mitosis,
       "basal mitosis rate r_n"},
      {"epidermis", "mitosis_max", "1", 1, 1e3, &P::mitosis_max, "maximal mitotic enhancement"},
      {"epidermis", "mitosis_half", "1", 1e-9, 1e3, &P::mitosis_half,
       "chemical excess for half enhancement"},
      {"epidermis", "chemical_diffusivity", "um^2/h", 0, 1e8, &P::chemical_diffusivity,
       "mitosis-regulating chemical diffusivity"},
      {"epidermis", "chemical_decay", "1/h", 1e-9, 1e4, &P::chemical_decay,
       "chemical production/decay rate lambda"},
      {"epidermis", "chemical_alpha", "1", 1e-6, 1, &P::chemical_alpha,
       "cell density of maximal chemical production"},
      {"epidermis", "thickening_rate", "1/h", 0, 10, &P::thickening_rate,
       "epidermal thickening by KGF"},
      {"epidermis", "kgf_half", "ng/mL", 1e-9, 1e4, &P::kgf_half, "half-maximal KGF"},
      {"epidermis", "epidermal_turnover", "h", 1, 1e6, &P::epidermal_turnover,
       "epidermal turnover time"},
      {"epidermis", "melanin_rate", "1/h", 0, 10, &P::melanin_rate,
       "inflammation-driven melanogenesis"},
      {"epidermis", "melanin_half", "1", 1e-9, 1e3, &P::melanin_half,
       "signal for half-maximal melanogenesis"},
      {"inflammation", "signal_decay", "1/h", 1e-6, 1e3, &P::signal_decay,
       "inflammatory signal decay"},
      {"inflammation", "signal_neutrophil_gain", "1", 0, 1e3, &P::signal_neutrophil_gain,
       "signal produced per neutrophil level"},
      {"inflammation", "signal_macrophage_clearance", "1/h", 0, 1e3,
       &P::signal_macrophage_clearance, "signal resolution by macrophages"},
      {"inflammation", "signal_diffusivity", "um^2/h", 0, 1e8, &P::signal_diffusivity,
       "inflammatory mediator diffusivity"},
      {"inflammation", "neutrophil_recruitment", "1/h", 0, 1e3, &P::neutrophil_recruitment,
       "maximal neutrophil influx"},
      {"inflammation", "neutrophil_half", "1", 1e-9, 1e3, &P::neutrophil_half,
       "signal for half-maximal influx"},
      {"inflammation", "neutrophil_death", "1/h", 0, 1e3, &P::neutrophil_death,
       "neutrophil apoptosis in tissue"},
      {"inflammation", "efferocytosis", "1/h", 0, 1e3, &P::efferocytosis,
       "neutrophil clearance per macrophage level"},
      {"inflammation", "neutrophil_motility", "um^2/h", 0, 1e7, &P::neutrophil_motility,
       "neutrophil random motility"},
      {"inflammation", "neutrophil_chemotaxis", "um^2/h", 0, 1e9, &P::neutrophil_chemotaxis,
       "neutrophil chemotaxis up the signal"},
      {"inflammation", "macrophage_recruitment", "1/h", 0, 1e3, &P::macrophage_recruitment,
       "maximal monocyte/macrophage influx"},
      {"inflammation", "macrophage_neutrophil_signal", "1", 0, 1e3,
       &P::macrophage_neutrophil_signal, "monocyte attraction per neutrophil level"},
      {"inflammation", "macrophage_half", "1", 1e-9, 1e3, &P::macrophage_half,
       "stimulus for half-maximal influx"},
      {"inflammation", "macrophage_clearance", "1/h", 0, 1e3, &P::macrophage_clearance,
       "macrophage emigration/death"},
      {"inflammation", "macrophage_motility", "um^2/h", 0, 1e7, &P::macrophage_motility,
       "macrophage random motility"},
      {"inflammation", "damage_clearance", "1/h", 0, 1e3, &P::damage_clearance,
       "basal debris clearance"},
      {"inflammation", "damage_clearance_macrophage", "1/h", 0, 1e3,
       &P::damage_clearance_macrophage, "debris clearance per macrophage level"},
      {"inflammation", "denatured_recruitment", "1", 0, 1e3, &P::denatured_recruitment,
       "monocyte recruitment stimulus of thermally denatured collagen"},
      {"inflammation", "erythema_half", "1", 1e-9, 1e3, &P::erythema_half,
       "signal for half-maximal vasodilation"},
      {"inflammation", "erythema_visible", "1", 1e-6, 1, &P::erythema_visible,
       "vasodilation visible as erythema"},
      {"inflammation", "redness_depth", "um", 1, 1e5, &P::redness_depth,
       "depth scale over which dermal redness is seen from above"},
      {"inflammation", "flare_radius", "um", 0, 1e5, &P::flare_radius,
       "radius of the neurogenic flare around one channel"},
      {"inflammation", "flare_decay", "h", 1e-6, 1e3, &P::flare_decay,
       "time constant of the flare's vasodilation"},
      {"growth_factors", "gf_diffusivity", "um^2/h", 0, 1e8, &P::gf_diffusivity,
       "TGF-b/PDGF diffusivity"},
      {"growth_factors", "gf_decay", "1/h", 1e-6, 1e3, &P::gf_decay, "TGF-b/PDGF decay"},
      {"growth_factors", "gf_macrophage", "ng/mL/h", 0, 1e4, &P::gf_macrophage,
       "TGF-b/PDGF secretion per macrophage level"},
      {"growth_factors", "gf_half", "ng/mL", 1e-9, 1e4, &P::gf_half,
       "half-maximal fibroblast activation"},
      {"growth_factors", "vegf_diffusivity", "um^2/h", 0, 1e8, &P::vegf_diffusivity,
       "VEGF diffusivity"},
      {"growth_factors", "vegf_decay", "1/h", 1e-6, 1e3, &P::vegf_decay, "VEGF decay"},
      {"growth_factors", "vegf_macrophage", "ng/mL/h", 0, 1e4, &P::vegf_macrophage,
       "VEGF secretion per macrophage level"},
      {"growth_factors", "vegf_hypoxia", "ng/mL/h", 0, 1e4, &P::vegf_hypoxia,
       "VEGF secretion at full vascular loss"},
      {"growth_factors", "kgf_diffusivity", "um^2/h", 0, 1e8, &P::kgf_diffusivity,
       "KGF diffusivity"},
      {"growth_factors", "kgf_decay", "1/h", 1e-6, 1e3, &P::kgf_decay, "KGF decay"},
      {"growth_factors", "kgf_fibroblast", "ng/mL/h", 0, 1e4, &P::kgf_fibroblast,
       "KGF secretion per relative fibroblast excess"},
      {"growth_factors", "mmp_macrophage", "1/h", 0, 1e3, &P::mmp_macrophage,
       "MMP secretion per macrophage level"},
      {"growth_factors", "mmp_fibroblast", "1/h", 0, 1e3, &P::mmp_fibroblast,
       "MMP secretion per activated fibroblast"},
      {"growth_factors", "mmp_decay", "1/h", 1e-6, 1e3, &P::mmp_decay, "MMP inactivation"},
      {"fibroblasts", "fibroblast_motility", "um^2/h", 0, 1e7, &P::fibroblast_motility,
       "fibroblast random motility"},
      {"fibroblasts", "fibroblast_chemotaxis", "um^2/h/(ng/mL)", 0, 1e9, &P::fibroblast_chemotaxis,
       "fibroblast chemotaxis up TGF-b/PDGF"},
      {"fibroblasts", "fibroblast_proliferation", "1/h", 0, 10, &P::fibroblast_proliferation,
       "maximal proliferation rate"},
      {"fibroblasts", "fibroblast_capacity", "1", 1, 1e3, &P::fibroblast_capacity,
       "carrying capacity / baseline"},
      {"fibroblasts", "fibroblast_return", "1/h", 0, 10, &P::fibroblast_return,
       "return to baseline density"},
      {"matrix", "collagen_synthesis", "1/h", 0, 10, &P::collagen_synthesis,
       "activated collagen synthesis"},
      {"matrix", "collagen1_share", "1", 0, 1, &P::collagen1_share,
       "type I share of new synthesis"},
      {"matrix", "collagen_turnover", "1/h", 0, 10, &P::collagen_turnover,
       "basal collagen degradation"},
      {"matrix", "collagen_maturation", "1/h", 0, 10, &P::collagen_maturation,
       "replacement of excess III by I"},
      {"matrix", "collagen_mmp", "1/h", 0, 10, &P::collagen_mmp, "MMP collagenolysis"},
      {"matrix", "collagen_remodelling", "1/h", 0, 10, &P::collagen_remodelling,
       "return of excess collagen to the set point"},
      {"matrix", "scar_susceptibility", "1", 0, 1e3, &P::scar_susceptibility,
       "MMP degradation of scar matrix relative to normal collagen"},
      {"matrix", "scar_phenotype_share", "1", 0, 1, &P::scar_phenotype_share,
       "share of an untreated scar's fibroblasts in the scar phenotype (seeded under lesions)"},
      {"matrix", "packing_density", "mg/mL", 1, 1e4, &P::packing_density,
       "densest dermal matrix (collagen I + III + elastin) before new matrix swells the dermis"},
      {"matrix", "growth_law_width", "um", 0, 1e4, &P::growth_law_width,
       "side of the square over which the growth law averages the matrix (column rise)"},
      {"matrix", "elastin_synthesis", "1/h", 0, 10, &P::elastin_synthesis,
       "activated elastin synthesis"},
      {"matrix", "elastin_turnover", "1/h", 0, 10, &P::elastin_turnover,
       "basal elastin degradation"},
      {"matrix", "elastin_mmp", "1/h", 0, 10, &P::elastin_mmp, "MMP elastolysis"},
      {"matrix", "denatured_mmp", "1/h", 0, 10, &P::denatured_mmp,
       "MMP (gelatinase) degradation of thermally denatured collagen"},
      {"matrix", "denatured_macrophage", "1/h", 0, 10, &P::denatured_macrophage,
       "macrophage clearance of thermally denatured collagen"},
      {"angiogenesis", "vascular_growth", "1/h", 0, 10, &P::vascular_growth,
       "VEGF-driven vessel growth"},
      {"angiogenesis", "vegf_half", "ng/mL", 1e-9, 1e4, &P::vegf_half, "half-maximal VEGF"},
      {"angiogenesis", "vascular_capacity", "1", 1, 100, &P::vascular_capacity,
       "maximal / baseline vascular fraction"},
      {"angiogenesis", "vascular_regression", "1/h", 0, 10, &P::vascular_regression,
       "return of vessels to baseline"},
      {"angiogenesis", "vascular_motility", "um^2/h", 0, 1e7, &P::vascular_motility,
       "sprout extension as diffusion"},
  };
  return r;
}

ParamSet parse_params(const std::string& text, const std::string& file) {
  toml::table doc;
  try {
    doc = toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw InputError(SourceLoc{file, static_cast<int>(b.line), static_cast<int>(b.column)}, "toml",
                     "syntax error: " + std::string(e.description()), "valid TOML 1.0");
  }
  ParamSet out;
  out.file = file;
  const auto& reg = param_registry();
  std::set<std::string> sections;
  for (const auto& pi : reg) sections.insert(std::string(pi.section));

  // Unknown sections or keys are errors (a misspelt key must not silently keep a default).
  // [meta] version: the format of this file; a file of another version is refused at the key.
  {
    const toml::node* meta = doc.get("meta");
    const SourceLoc top{file, 1, 1};
    const std::string expected =
        fmt::format("version = {}, the format this mnsim reads", kHealingFileVersion);
    if (!meta) throw InputError(top, "meta.version", "missing [meta] table", "[meta] " + expected);
    const toml::table* mt = meta->as_table();
    if (!mt) throw InputError(loc_of(*meta, file), "meta", "is not a table", "[meta] " + expected);
    for (const auto& [k, node] : *mt) {
      if (k.str() != "version") {
        throw InputError(loc_of(node, file), "meta." + std::string(k.str()), "unknown key",
                         "only version");
      }
    }
    const toml::node* v = mt->get("version");
    if (!v) throw InputError(loc_of(*meta, file), "meta.version", "missing", expected);
    if (!v->is_integer()) {
      throw InputError(loc_of(*v, file), "meta.version", "is not an integer", expected);
    }
    const std::int64_t version = *v->value<std::int64_t>();
    if (version != kHealingFileVersion) {
      throw InputError(loc_of(*v, file), "meta.version", fmt::format("unknown version {}", version),
                       expected);
    }
  }

  for (const auto& [sk, snode] : doc) {
    std::string s(sk.str());
    if (s == "meta") continue;
    if (!sections.count(s)) {
      throw InputError(loc_of(snode, file), s, "unknown section",
                       "one of meta, injury, barrier, epidermis, inflammation, growth_factors, "
                       "fibroblasts, matrix, angiogenesis");
    }
    const toml::table* st = snode.as_table();
    if (!st) throw InputError(loc_of(snode, file), s, "is not a table", "a [section]");
    for (const auto& [k, node] : *st) {
      bool known = false;
      for (const auto& pi : reg) known |= (pi.section == s && pi.key == k.str());
      if (!known) {
        throw InputError(loc_of(node, file), s + "." + std::string(k.str()), "unknown parameter",
                         "a parameter listed in docs/model.md");
      }
    }
  }

  for (const auto& pi : reg) {
    const std::string key = fmt::format("{}.{}", pi.section, pi.key);
    const toml::table* st = doc[pi.section].as_table();
    const toml::node* node = st ? st->get(pi.key) : nullptr;
    if (!node) {
      throw InputError(
          SourceLoc{file, st ? static_cast<int>(st->source().begin.line) : 1,
                    st ? static_cast<int>(st->source().begin.column) : 1},
          key, "missing parameter",
          fmt::format("{{ value = <number>, unit = \"{}\", source = \"...\" }}", pi.unit));
    }
    const toml::table* t = node->as_table();
    if (!t) {
      throw InputError(
          loc_of(*node, file), key, "is not a table",
          fmt::format("{{ value = <number>, unit = \"{}\", source = \"...\" }}", pi.unit));
    }
    for (const auto& [k, n] : *t) {
      if (k.str() != "value" && k.str() != "unit" && k.str() != "source") {
        throw InputError(loc_of(n, file), key + "." + std::string(k.str()), "unknown field",
                         "value, unit, source");
      }
    }
    const toml::node* v = t->get("value");
    if (!v || !(v->is_floating_point() || v->is_integer())) {
      throw InputError(v ? loc_of(*v, file) : loc_of(*node, file), key + ".value",
                       v ? "is not a number" : "missing", "a number");
    }
    double val =
        v->is_integer() ? static_cast<double>(*v->value<std::int64_t>()) : *v->value<double>();
    if (!std::isfinite(val) || val < pi.min || val > pi.max) {
      throw InputError(loc_of(*v, file), key + ".value", fmt::format("{} is out of range", val),
                       fmt::format("a number in [{}, {}] {}", pi.min, pi.max, pi.unit));
    }
    const toml::node* u = t->get("unit");
    if (!u || !u->is_string() || *u->value<std::string>() != pi.unit) {
      throw InputError(u ? loc_of(*u, file) : loc_of(*node, file), key + ".unit",
                       u ? "wrong unit" : "missing", fmt::format("\"{}\"", pi.unit));
    }
    const toml::node* src = t->get("source");
    if (!src || !src->is_string() || src->value<std::string>()->size() < 3) {
      throw InputError(src ? loc_of(*src, file) : loc_of(*node, file), key + ".source",
                       src ? "is empty or not a string" : "missing",
                       "a citation (author, year, journal) or \"calibrated (...)\" or "
                       "\"assumed (...)\"");
    }
    out.p.*(pi.member) = val;
    out.records.push_back(ParamRecord{std::string(pi.section), std::string(pi.key),
                                      std::string(pi.unit), *src->value<std::string>(), val,
                                      static_cast<int>(node->source().begin.line)});
  }

  return out;
}

ParamSet load_params(const std::string& path) {
  return parse_params(io::read_text_file(path, 1u << 20, "a TOML data file"), path);
}

ParamSet load_default_params() {
  return load_params((data_file("healing.toml")).string());
}

namespace {
std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}
}  // namespace

std::string to_toml(const ParamSet& ps) {
  std::string out = fmt::format("[meta]\nversion = {}\n\n", kHealingFileVersion);
  std::string cur;
  for (const auto& r : ps.records) {
    if (r.section != cur) {
      out += fmt::format("{}[{}]\n", cur.empty() ? "" : "\n", r.section);
      cur = r.section;
    }
    out += fmt::format("{} = {{ value = {}, unit = {}, source = {} }}\n", r.key, r.value,
                       quote(r.unit), quote(r.source));
  }
  return out;
}

}  // namespace mnsim::healing
