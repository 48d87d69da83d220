#include "healing/substances.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"

namespace mnsim::healing {

namespace {

constexpr double kBoltzmann = 1.380649e-23;  // J/K (SI exact)
constexpr double kAvogadro = 6.02214076e23;  // 1/mol (SI exact)

}  // namespace

bool clears_solutes(skin::Layer l) {
  return l == skin::Layer::PapillaryDermis || l == skin::Layer::ReticularDermis ||
         l == skin::Layer::Hypodermis;
}

const std::vector<std::string>& agent_names() {
  static const std::vector<std::string> names = {"tranexamic_acid", "minoxidil", "prp", "saline"};
  return names;
}

const std::vector<std::string>& vehicle_names() {
  static const std::vector<std::string> names = {"aqueous", "gel", "plasma"};
  return names;
}

SubstanceData SubstanceData::load(const std::filesystem::path& path) {
  const io::DataFile f(path.string());
  SubstanceData d;
  const toml::table& t = f.table(f.root(), "", "tissue");
  f.check_keys(t, "tissue",
               {"hindrance", "water_viscosity_mpa_s", "temperature_k", "specific_volume_cm3_g",
                "perfusion_per_s", "blood_partition", "potts_guy_a", "potts_guy_b", "potts_guy_c",
                "wet_film_evaporation_g_m2_h"});
  auto num = [&](const toml::table& tb, const std::string& where, const std::string& key, double lo,
                 double hi) { return f.value(tb, where, key, Dim::Number, lo, hi).si; };
  d.hindrance = num(t, "tissue", "hindrance", 0.01, 1.0);
  d.viscosity = 1e-3 * num(t, "tissue", "water_viscosity_mpa_s", 0.2, 2.0);
  d.temperature = num(t, "tissue", "temperature_k", 290.0, 320.0);
  d.specific_volume = 1e-3 * num(t, "tissue", "specific_volume_cm3_g", 0.3, 1.5);
  d.perfusion = num(t, "tissue", "perfusion_per_s", 0.0, 0.1);
  d.blood_partition = num(t, "tissue", "blood_partition", 0.01, 100.0);
  d.potts_guy_a = num(t, "tissue", "potts_guy_a", -10.0, 0.0);
  d.potts_guy_b = num(t, "tissue", "potts_guy_b", 0.0, 2.0);
  d.potts_guy_c = num(t, "tissue", "potts_guy_c", 0.0, 0.1);
  d.evaporation = num(t, "tissue", "wet_film_evaporation_g_m2_h", 1.0, 10000.0);
  for (const std::string& name : agent_names()) {
    if (name == "saline") continue;  // the vehicle alone
    const toml::table& a = f.table(f.root(), "", name);
    Agent g;
    g.name = name;
    const toml::node* kind = a.get("kind");
    const std::string k = kind && kind->is_string() ? kind->as_string()->get() : std::string();
    if (k == "solute") {
      f.check_keys(a, name,
                   {"kind", "molecular_weight", "log_p", "plasmin_share", "half_inhibition_um"});
      g.kind = AgentKind::Solute;
      g.molecular_weight = num(a, name, "molecular_weight", 10.0, 1e6);
      g.log_p = num(a, name, "log_p", -10.0, 10.0);
      io::DataValue v;
      if (f.optional_value(a, name, "plasmin_share", Dim::Number, 0.0, 1.0, v)) {
        g.plasmin_share = v.si;
        g.half_inhibition_um = num(a, name, "half_inhibition_um", 1e-6, 1e6);
      }
    } else if (k == "platelets") {
      f.check_keys(a, name, {"kind", "growth_factor"});
      g.kind = AgentKind::Platelets;
      g.growth_factor = num(a, name, "growth_factor", 0.0, 1e5);
    } else {
      f.fail(kind ? *kind : static_cast<const toml::node&>(a), name + ".kind",
             "unknown agent kind '" + k + "'", "\"solute\" or \"platelets\"");
    }
    d.agents[name] = g;
  }
  for (const std::string& name : vehicle_names()) {
    const toml::table& v = f.table(f.root(), "", name);
    f.check_keys(v, name, {"kind", "water_fraction"});
    d.vehicles[name] = {name, num(v, name, "water_fraction", 0.0, 1.0)};
  }
  return d;
}

const SubstanceData& SubstanceData::defaults() {
  static const SubstanceData d = load(data_file("substances.toml"));
  return d;
}

double SubstanceData::free_diffusivity(const Agent& a) const {
  // Stokes-Einstein: D = kT / (6 pi eta r), r the radius of a sphere of the molecule's volume
  // (molecular weight x partial specific volume).
  const double volume = a.molecular_weight * 1e-3 / kAvogadro * specific_volume;  // m^3
  const double r = std::cbrt(3.0 * volume / (4.0 * kPi));
  return kBoltzmann * temperature / (6.0 * kPi * viscosity * r);
}

double SubstanceData::tissue_diffusivity(const Agent& a) const {
  return hindrance * free_diffusivity(a) * 1e12 * kHour;  // m^2/s -> um^2/h
}

double SubstanceData::sc_permeability(const Agent& a) const {
  const double log_kp = potts_guy_a + potts_guy_b * a.log_p - potts_guy_c * a.molecular_weight;
  return std::pow(10.0, log_kp) * 1e4;  // cm/h -> um/h
}

double SubstanceData::clearance_rate() const {
  return perfusion / blood_partition * kHour;
}

schema::Key application_schema() {
  using namespace schema;
  return table_array(
      "application",
      "a topical agent applied after needling (docs/substances.md): it enters through the open "
      "channels and the stratum corneum, diffuses and is cleared by the blood",
      {enumeration("agent", agent_names(), "",
                   "what is applied: tranexamic_acid and minoxidil (solutes), prp (platelet-rich "
                   "plasma: its growth factors feed the healing), saline (the vehicle alone)")
           .must(),
       enumeration("vehicle", vehicle_names(), "aqueous",
                   "the film it is applied in (its water dries off unoccluded)"),
       quantity("concentration", Dim::Concentration, "mg/mL", "",
                "concentration of a solute agent in the film (tranexamic_acid, minoxidil)", 1e-6,
                500.0),
       quantity("film", Dim::Length, "um", "20 um",
                "volume applied per area, as a film thickness: 1 uL/cm^2 is 10 um", 1e-6, 2e-3),
       boolean("occlusion", "false", "covered (occlusive dressing): the film does not dry"),
       quantity("delay", Dim::Time, "minutes", "0 min",
                "time after the session's needling when it is applied", 0.0, kDay),
       quantity("contact", Dim::Time, "hours", "4 hours",
                "time it stays on the skin at most before it is washed off", 60.0, 3 * kDay),
       integer("session", "0", "session it follows (1 = the first; 0: every session)", 0, 1000)},
      16);
}

std::vector<Application> read_applications(const Table& scenario, int sessions) {
  std::vector<Application> out;
  const std::vector<Table>& ts = scenario.tables("application");
  std::size_t solutes = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const Table& t = ts[i];
    Application a;
    a.index = i;
    a.agent = t.str("agent");
    a.vehicle = t.str("vehicle");
    a.film = t.quantity("film");
    a.occluded = t.flag("occlusion");
    a.delay = t.quantity("delay");
    a.contact = t.quantity("contact");
    a.session = static_cast<int>(t.integer("session"));
    const bool solute = a.agent == "tranexamic_acid" || a.agent == "minoxidil";
    if (solute) {
      if (!t.has("concentration") || t.value("concentration").defaulted) {
        t.fail("concentration", fmt::format("{} needs its concentration in the film", a.agent),
               "a concentration, e.g. \"50 mg/mL\"");
      }
      a.concentration = t.quantity("concentration");
    } else if (t.has("concentration") && !t.value("concentration").defaulted) {
      t.fail("concentration",
             fmt::format("{} has no concentration to set ({})", a.agent,
                         a.agent == "prp" ? "its growth factors are data/substances.toml's"
                                          : "it is the vehicle alone"),
             "no concentration key");
    }
    if (a.session > sessions) {
      t.fail("session",
             fmt::format("session {} is past the course's {} sessions", a.session, sessions),
             fmt::format("0 (every session) or 1 to {}", sessions));
    }
    if (solute) {
      for (const Application& b : out) {
        if (b.agent == a.agent) {
          t.fail("agent",
                 fmt::format("{} is applied by [[application]] {} already", a.agent, b.index + 1),
                 "one [[application]] per agent (use session = 0 for every session)");
        }
      }
      ++solutes;
      if (solutes > SubstanceDrive::kMaxAgents) {
        t.fail("agent", "too many solute agents", "at most 2");
      }
    }
    out.push_back(a);
  }
  return out;
}

double wet_time(const SubstanceData& d, const Application& a) {
  if (a.occluded) return a.contact;
  const Vehicle& v = d.vehicles.at(a.vehicle);
  // Water per area (g/m^2) over the evaporation of a wet surface (g/m^2/h).
  const double water = v.water_fraction * a.film * 1e6;  // m x 1e6 g/m^3
  const double dry = water / d.evaporation * kHour;
  return std::min(a.contact, dry);
}

namespace {

/// One solute: exchange between the formulation held in the channel lumen and the tissue around
/// it, entry through the stratum corneum from the film on the skin, and dermal clearance.
class SoluteTransport final : public BoundProcess {
 public:
  struct Rates {
    std::size_t drive_index = 0;
    double diffusivity = 0.0;   // um^2/h
    double kp = 0.0;            // um/h
    double clearance = 0.0;     // 1/h at baseline vascular fraction
    double dx = 1.0;            // um
    double sc_thickness = 1.0;  // um
    std::string name;
  };
  SoluteTransport(const Binding& b, Rates r, std::shared_ptr<const SubstanceDrive> drive)
      : vascular_(b.slot("vascular")),
        C_(b.slot(r.name)),
        S_(b.slot(r.name + "_lumen")),
        liquid_(b.slot(r.name + "_liquid")),
        permeated_(b.slot(r.name + "_permeated")),
        cleared_(b.slot(r.name + "_cleared")),
        r_(std::move(r)),
        drive_(std::move(drive)) {}
  void apply(const Cells& c) const override {
    const double dt = c.dt;
    const skin::Layer layer = c.baseline->layer;
    const double Cv = drive_->vehicle[r_.drive_index];
    const double* liquid = c.now[liquid_];
    const double* v = c.now[vascular_];
    double* C = c.now[C_];
    double* S = c.now[S_];
    double* in = c.now[permeated_];
    double* out = c.now[cleared_];
    const double k_wall = 8.0 * r_.diffusivity / (r_.dx * r_.dx);
    const double sc_add =
        layer == skin::Layer::StratumCorneum && Cv > 0.0 ? r_.kp * Cv * dt / r_.sc_thickness : 0.0;
    const bool clears = clears_solutes(layer) && r_.clearance > 0.0;
    const double v0 = c.baseline->vascular;
    for (std::size_t i = 0; i < c.n; ++i) {
      const double k_clear =
          clears ? r_.clearance * (v0 > 0.0 ? std::max(v[i], 0.0) / v0 : 1.0) : 0.0;
      solute_step(k_wall, liquid[i], sc_add, k_clear, dt, C[i], S[i], in[i], out[i]);
    }
  }

 private:
  int vascular_, C_, S_, liquid_, permeated_, cleared_;
  Rates r_;
  std::shared_ptr<const SubstanceDrive> drive_;
};

/// Tranexamic acid in the viable epidermis takes the plasmin-borne share of the melanogenic
/// stimulus away: of this step's melanin production (what the epidermis process added over the
/// decay of the start value), the fraction share x occupancy is removed.
class Melanogenesis final : public BoundProcess {
 public:
  Melanogenesis(const Binding& b, const std::string& agent, double share, double half_ug_ml)
      : C_(b.start_slot(agent)),
        mu_(b.start_slot("melanin_excess")),
        share_(share),
        half_(half_ug_ml),
        turnover_(b.params().epidermal_turnover) {}
  void prepare(double dt) override { decay_ = std::exp(-dt / turnover_); }
  void apply(const Cells& c) const override {
    if (!c.baseline->epidermal()) return;
    const double* C = c.start[C_];
    const double* mu0 = c.start[mu_];
    double* mu = c.now[mu_];
    for (std::size_t i = 0; i < c.n; ++i) {
      const double x = std::max(C[i], 0.0);
      if (!(x > 0.0)) continue;
      const double produced = mu[i] - mu0[i] * decay_;
      if (produced > 0.0) mu[i] -= share_ * x / (x + half_) * produced;
    }
  }

 private:
  int C_, mu_;
  double share_, half_, turnover_, decay_ = 1.0;
};

}  // namespace

SubstanceFields add_substances(Model& m, const SubstanceData& d,
                               const std::vector<Application>& apps,
                               std::shared_ptr<const SubstanceDrive> drive, double dx_um,
                               double sc_thickness_um) {
  SubstanceFields out;
  if (apps.empty()) return out;
  const LayerSet all{true, true, true, true, true};
  out.lumen = m.add_field({.name = "channel_lumen", .unit = "1"});
  bool prp = false;
  for (const Application& a : apps) {
    if (a.agent == "prp") prp = true;
    if (a.agent != "tranexamic_acid" && a.agent != "minoxidil") continue;
    if (std::find(out.solutes.begin(), out.solutes.end(), a.agent) != out.solutes.end()) continue;
    const Agent& g = d.agents.at(a.agent);
    const std::string src = "data/substances.toml";
    SoluteTransport::Rates r;
    r.drive_index = out.solutes.size();
    r.diffusivity = d.tissue_diffusivity(g);
    r.kp = d.sc_permeability(g);
    r.clearance = d.clearance_rate();
    r.dx = dx_um;
    r.sc_thickness = std::max(sc_thickness_um, 1e-3);
    r.name = a.agent;
    m.add_field({.name = a.agent,
                 .unit = "ug/mL",
                 .transport = Transport::Diffusion,
                 .layers = all,
                 .diffusivity = {.value = r.diffusivity,
                                 .source = src + " (Stokes-Einstein x hindrance)"}});
    m.add_field({.name = a.agent + "_lumen", .unit = "ug/mL"});
    m.add_field({.name = a.agent + "_liquid", .unit = "1"});
    m.add_field({.name = a.agent + "_permeated", .unit = "ug/mL"});
    m.add_field({.name = a.agent + "_cleared", .unit = "ug/mL"});
    m.add_process({a.agent + "_transport",
                   {a.agent + "_liquid", "vascular"},
                   {a.agent, a.agent + "_lumen", a.agent + "_permeated", a.agent + "_cleared"},
                   [r, drive](const Binding& b) -> std::unique_ptr<BoundProcess> {
                     return std::make_unique<SoluteTransport>(b, r, drive);
                   }});
    if (g.plasmin_share > 0.0) {
      const double half = g.half_inhibition_um * g.molecular_weight * 1e-3;  // uM -> ug/mL
      const std::string name = a.agent;
      const double share = g.plasmin_share;
      m.add_process({a.agent + "_melanogenesis",
                     {a.agent},
                     {"melanin_excess"},
                     [name, share, half](const Binding& b) -> std::unique_ptr<BoundProcess> {
                       return std::make_unique<Melanogenesis>(b, name, share, half);
                     }});
    }
    out.solutes.push_back(a.agent);
  }
  if (prp) m.add_field({.name = "prp_growth_factor", .unit = "ng/mL"});
  return out;
}

}  // namespace mnsim::healing
