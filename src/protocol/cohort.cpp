#include "protocol/cohort.hpp"
#include "skin/profile.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/rng.hpp"
#include "core/stats.hpp"
#include "core/version.hpp"
#include "devices/registry.hpp"
#include "devices/schema.hpp"
#include "healing/substances.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/shards.hpp"
#include "io/toml_file.hpp"
#include "lesions/causes.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/goodman_baron.hpp"
#include "protocol/bands.hpp"
#include "protocol/mirror.hpp"

namespace mnsim::protocol {

namespace {

Summary summarize(const std::vector<double>& x) {
  Summary s;
  if (x.empty()) return s;
  for (double v : x) s.mean += v;
  s.mean /= static_cast<double>(x.size());
  if (x.size() > 1) {
    double q = 0;
    for (double v : x) q += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(q / static_cast<double>(x.size() - 1));
  }
  return s;
}

long long poisson(Rng& r, double mean) {
  if (mean <= 0) return 0;
  // Inversion of the cumulative distribution (means here are small).
  const double u = r.uniform();
  double p = std::exp(-mean), c = p;
  long long k = 0;
  while (u > c && k < 10000) {
    ++k;
    p *= mean / static_cast<double>(k);
    c += p;
  }
  return k;
}

template <class Weights>
int categorical(Rng& r, const Weights& w) {
  double sum = 0;
  for (double x : w) sum += x;
  double u = r.uniform() * sum;
  const std::size_t n = w.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (u < w[i]) return static_cast<int>(i);
    u -= w[i];
  }
  for (std::size_t i = n; i-- > 0;) {
    if (w[i] > 0) return static_cast<int>(i);
  }
  return 0;
}

}  // namespace

namespace {

// The scenario's [device] section as an optional sub-table (not created when absent).
schema::Key optional_device_table(std::string doc) {
  schema::Key k = devices::device_schema();
  k.always = false;
  k.doc = std::move(doc);
  return k;
}

// The technique keys the reduced model reads (the scenario's [technique] keys of the same
// names: it uses their nominal values and draws no hand jitter).
schema::Key reduced_technique_table(std::string doc) {
  using namespace schema;
  Key k =
      table("technique", std::move(doc),
            {
                mirror_key("technique.passes", "passes", "",
                           "passes over the treated area per session (required with a device)"),
                mirror_key("technique.speed", "speed", "5 cm/s", "glide speed (rollers and pens)"),
                mirror_key("technique.overlap", "overlap", "5 %",
                           "lateral overlap of adjacent strokes (fraction of the device width)"),
                mirror_key("technique.force", "force", "3 N", "force applied on the device"),
            },
            false);
  return k;
}

// A reduced technique from its validated table: the scenario defaults for what it does not set.
devices::Technique read_technique(const Table& t, const std::string& device_path) {
  devices::Technique tq = devices::Technique::defaults();
  if (!t.has("passes")) {
    t.fail("passes", "is missing", "passes per session of the device in " + device_path);
  }
  tq.passes = static_cast<int>(t.integer("passes"));
  tq.speed = t.quantity("speed");
  tq.overlap = t.quantity("overlap");
  tq.force = t.quantity("force");
  return tq;
}

// A device table read and built (a model or setting the catalog does not accept is an error at
// its key, with the file's location).
devices::DeviceSpec read_device(const Table& t) {
  devices::DeviceSpec d = devices::device_spec(t);
  (void)devices::make_device(d, devices::DeviceCatalog::defaults());
  return d;
}

bool written(const Table& t, const std::string& key) {
  return t.has(key) && !t.value(key).defaulted;
}

}  // namespace

schema::Key reduced_protocol_schema() {
  using namespace schema;
  return table(
      "protocol",
      "The course given to every patient (reduced model): a catalog roller by needle length and "
      "passes, or any catalog device in [protocol.device] with [protocol.technique], optionally "
      "changed session by session.",
      {
          // Keys that mirror scenario keys take their range, unit and choices from them.
          mirror_key("device.needle_length@roller", "needle_length", "1.5 mm",
                     "roller shorthand: needle length of the catalog roller roller_192_mf8 (depth "
                     "reached: the penetration model); not with [protocol.device]"),
          mirror_key("technique.passes", "passes", "16",
                     "roller shorthand: roller passes per session (15.3 punctures/cm^2 each); not "
                     "with [protocol.device]"),
          mirror_key("course.sessions", "sessions", "3",
                     "number of sessions (default with [[protocol.session]]: one per listed "
                     "session)"),
          mirror_key("course.interval", "interval", "4 weeks", "time between sessions"),
          mirror_key("course.follow_up", "follow_up", "8 weeks",
                     "headline outcome time after the last session"),
          quantity("time_step", Dim::Time, "h", "6 h",
                   "largest reaction step of the reduced driver (accuracy: docs/cohort.md)", 60.0,
                   48 * kHour),
          optional_device_table(
              "Any catalog device (the scenario's [device] keys: kind, model and the kind's "
              "settings) used in every session not listed in [[protocol.session]]."),
          reduced_technique_table("How [protocol.device] is moved (the scenario's [technique] "
                                  "keys the reduced model reads; passes required)."),
          table_array("session",
                      "Sessions listed in order, each with its own device and technique (a "
                      "sub-table not given is the protocol's).",
                      {optional_device_table("This session's device (a whole [device] table)."),
                       reduced_technique_table("This session's technique.")},
                      20),
          table_array("session_counts",
                      "Per-patient distribution of the number of sessions (cohorts): each "
                      "patient draws one count by weight; default: every patient has `sessions`.",
                      {mirror_key("course.sessions", "sessions", "", "a number of sessions").must(),
                       number("weight", "1", "relative weight", 0.0, 1e6)},
                      20),
          table_array(
              "outcome_times",
              "Further outcome times, each after the patient's last session (outputs "
              "per time; follow_up is always one of them).",
              {mirror_key("course.follow_up", "follow_up", "", "time after the last session")
                   .must()},
              12),
          // The scenario's [[application]] keys (docs/substances.md, "In the reduced model").
          healing::application_schema(),
      });
}

ReducedProtocol read_reduced_protocol(const Table& t) {
  ReducedProtocol p;
  p.needle_length = t.quantity("needle_length");
  p.passes = static_cast<int>(t.integer("passes"));
  p.sessions = static_cast<int>(t.integer("sessions"));
  p.interval = t.quantity("interval");
  p.follow_up = t.quantity("follow_up");
  p.time_step = t.quantity("time_step");
  if (t.has_table("device")) {
    const Table& d = t.table("device");
    for (const char* k : {"needle_length", "passes"}) {
      if (written(t, k)) {
        t.fail(k, "is the catalog roller shorthand, but [protocol.device] names the device",
               "the needle length or depth in [protocol.device] and passes in "
               "[protocol.technique]");
      }
    }
    if (!t.has_table("technique")) {
      d.fail("kind", "has no [protocol.technique]",
             "a [protocol.technique] table with passes = N (passes per session)");
    }
    p.device = SessionDevice{read_device(d), read_technique(t.table("technique"), d.path())};
  } else {
    if (t.has_table("technique")) {
      t.table("technique")
          .fail("passes", "moves no [protocol.device]",
                "a [protocol.device] table, or the roller shorthand needle_length and passes");
    }
    // The reduced model fits the catalog roller with this length: a length the roller is not
    // made with is an error at this key, not at the device table the model builds internally.
    try {
      check_roller_length(p.device_model, p.needle_length);
    } catch (const InputError& e) {
      t.fail("needle_length", e.problem(), e.expected());
    }
  }
  const auto& listed = t.tables("session");
  for (const Table& s : listed) {
    SessionDevice d = p.session_device(std::numeric_limits<int>::max());
    if (s.has_table("device")) d.device = read_device(s.table("device"));
    if (s.has_table("technique")) {
      d.technique = read_technique(s.table("technique"), s.path() + ".device");
    } else if (s.has_table("device") && !p.device) {
      s.fail("device",
             "has no technique, and the protocol names no [protocol.device] to take it "
             "from",
             "a [protocol.session.technique] table with passes = N");
    }
    p.listed.push_back(std::move(d));
  }
  if (!listed.empty() && !written(t, "sessions")) p.sessions = static_cast<int>(listed.size());
  for (const Table& c : t.tables("session_counts")) {
    p.session_counts.emplace_back(static_cast<int>(c.integer("sessions")), c.number("weight"));
  }
  if (!p.session_counts.empty()) {
    double w = 0.0;
    for (const auto& [n, wt] : p.session_counts) w += wt;
    if (!(w > 0.0)) {
      t.tables("session_counts")
          .front()
          .fail("weight", "all weights are zero", "a positive weight");
    }
  }
  for (const Table& o : t.tables("outcome_times")) p.also_at.push_back(o.quantity("follow_up"));
  int most = p.sessions;
  for (const auto& [n, wt] : p.session_counts) most = std::max(most, n);
  p.applications = healing::read_applications(t, most);
  return p;
}

const schema::Key& cohort_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    std::vector<Key> fitz;
    for (int i = 1; i <= 6; ++i) {
      fitz.push_back(number(fmt::format("type_{}", i), "0",
                            fmt::format("relative weight of Fitzpatrick type {} (all 0: every "
                                        "patient type III)",
                                        i),
                            0.0, 1e6));
    }
    std::vector<Key> scars;
    for (const auto& c : lesions::inventory_classes()) {
      scars.push_back(
          number(c, "0", fmt::format("mean number (Poisson) of {} scars", c), 0.0, 1000.0));
    }
    std::vector<Key> causes;
    for (const auto& n : lesions::scar_cause_names()) {
      causes.push_back(
          number(n, "0",
                 n == lesions::kAcneCause
                     ? std::string("share of patients with acne scars ([population.scars])")
                     : fmt::format("share of patients with {} scars ({})", n,
                                   lesions::default_scar_causes().find(n)->description),
                 0.0, 1.0));
    }
    std::vector<Key> glogau;
    for (int i = 1; i <= skin::kGlogauTypes; ++i) {
      glogau.push_back(number(fmt::format("type_{}", i), "0",
                              fmt::format("relative weight of Glogau type {} (all 0: none)", i),
                              0.0, 1e6));
    }
    Key root = table("", "a virtual cohort", {}, true);
    root.children = {
        string("title", "", "Title of the cohort."),
        mirror_key("seed", "seed", "1", "Seed of every random draw of the cohort."),
        table(
            "population", "Who is treated.",
            {
                integer("size", "100", "number of virtual patients", 1, 1000000),
                mirror_key("patient.age", "age_mean", "30 years", "mean age (normal, truncated)"),
                quantity("age_sd", Dim::Time, "years", "8 years", "SD of age", 0.0, 60 * kYear),
                mirror_key("patient.age", "age_min", "18 years", "youngest"),
                mirror_key("patient.age", "age_max", "65 years", "oldest"),
                number("female_fraction", "0.5", "fraction of women", 0.0, 1.0),
                integer("min_baseline_grade", "0",
                        "inclusion: qualitative G&B grade at least this (inventory redrawn)", 0, 4),
                integer("max_baseline_grade", "4",
                        "inclusion: qualitative G&B grade at most this (inventory redrawn)", 0, 4),
                integer("min_baseline_score", "0",
                        "inclusion: quantitative G&B score at least this (inventory redrawn)", 0,
                        1000),
                integer("max_baseline_score", "1000",
                        "inclusion: quantitative G&B score at most this (inventory redrawn)", 0,
                        1000),
                table("fitzpatrick", "Relative weights of the Fitzpatrick types.", fitz),
                table_array("sites", "Treated sites with weights (default: medial cheek).",
                            {mirror_key("patient.site", "site", "", "atlas site").must(),
                             number("weight", "1", "relative weight", 0.0, 1e6)},
                            100),
                table("scars",
                      "Scar inventory: mean count per class (with [population.cause]: of the "
                      "patients whose scars are from acne).",
                      scars),
                table("cause",
                      "Shares of the patients by the cause of their scars (summing to 1; none "
                      "given: every patient's scars are [population.scars]). Acne: "
                      "[population.scars]; other causes: their number and classes in "
                      "data/causes.toml (docs/cohort.md, \"Scar causes\").",
                      causes),
                table("glogau",
                      "Relative weights of the Glogau photoageing types (all 0: no photoageing "
                      "baseline). A patient's type sets the dermal collagen I and III and elastin "
                      "(data/sites.toml [modifiers.photoageing]); types 1 and 2 have no wrinkles "
                      "at rest (their wrinkle mean is 0).",
                      glogau),
            }),
        table("variability", "Between-patient variability: SD of ln(rate multiplier).",
              {
                  number("collagen_synthesis", "0", "collagen and elastin synthesis", 0.0, 2.0),
                  number("growth_factor_supply", "0", "macrophage growth-factor release", 0.0, 2.0),
                  number("fibroblast_proliferation", "0", "fibroblast proliferation", 0.0, 2.0),
                  number("melanin_rate", "0", "melanogenic response (PIH)", 0.0, 2.0),
              }),
        reduced_protocol_schema(),
        table_array("arms",
                    "Paired arms (split-face): the same patients treated with each arm's "
                    "protocol; instead of [protocol]. Arms after the first are compared with the "
                    "first patient by patient.",
                    {string("name", "", "name of the arm (letters, digits, _ and -)").must(),
                     reduced_protocol_schema()},
                    8),
        table("bands",
              "Predictive bands of the cohort's summary statistics (docs/cohort.md, "
              "\"Parameter uncertainty\"); patient variability is the cohort itself.",
              {integer("posterior_draws", "0",
                       "posterior draws of the calibrated parameters "
                       "(data/posterior_sample.toml): every patient is simulated again at each "
                       "draw for the parameter-uncertainty band of each arm's summary "
                       "statistics; 0: no band",
                       0, kMaxBandDraws)}),
    };
    return root;
  }();
  return root;
}

CohortSpec read_cohort(const Table& root) {
  CohortSpec c;
  c.seed = static_cast<std::uint64_t>(root.integer("seed"));
  const Table& p = root.table("population");
  Population& pop = c.population;
  pop.size = p.integer("size");
  pop.age_mean = p.quantity("age_mean") / kYear;
  pop.age_sd = p.quantity("age_sd") / kYear;
  pop.age_min = p.quantity("age_min") / kYear;
  pop.age_max = p.quantity("age_max") / kYear;
  if (pop.age_max < pop.age_min) p.fail("age_max", "is below age_min", "age_max >= age_min");
  pop.female_fraction = p.number("female_fraction");
  pop.min_baseline_grade = static_cast<int>(p.integer("min_baseline_grade"));
  pop.max_baseline_grade = static_cast<int>(p.integer("max_baseline_grade"));
  pop.min_baseline_score = static_cast<int>(p.integer("min_baseline_score"));
  pop.max_baseline_score = static_cast<int>(p.integer("max_baseline_score"));
  pop.inclusion_loc = p.loc();
  for (const char* k :
       {"min_baseline_grade", "max_baseline_grade", "min_baseline_score", "max_baseline_score"}) {
    if (!p.value(k).defaulted) {
      pop.inclusion_loc = p.loc_of(k);
      pop.inclusion_key = p.key_path(k);
      break;
    }
  }
  if (pop.max_baseline_grade < pop.min_baseline_grade) {
    p.fail("max_baseline_grade", "is below min_baseline_grade",
           "max_baseline_grade >= min_baseline_grade");
  }
  if (pop.max_baseline_score < pop.min_baseline_score) {
    p.fail("max_baseline_score", "is below min_baseline_score",
           "max_baseline_score >= min_baseline_score");
  }
  const Table& f = p.table("fitzpatrick");
  double fsum = 0;
  for (int i = 0; i < 6; ++i) {
    pop.fitzpatrick_weights[static_cast<std::size_t>(i)] = f.number(fmt::format("type_{}", i + 1));
    fsum += pop.fitzpatrick_weights[static_cast<std::size_t>(i)];
  }
  if (!(fsum > 0)) pop.fitzpatrick_weights = {0, 0, 1, 0, 0, 0};  // documented default
  const auto& sites = p.tables("sites");
  if (!sites.empty()) {
    pop.sites.clear();
    double ws = 0;
    for (const auto& s : sites) {
      pop.sites.emplace_back(s.str("site"), s.number("weight"));
      ws += s.number("weight");
    }
    if (!(ws > 0)) sites.front().fail("weight", "all site weights are zero", "a positive weight");
  }
  const Table& s = p.table("scars");
  double ssum = 0;
  const std::vector<std::string> classes = lesions::inventory_classes();
  pop.scar_means.assign(classes.size(), 0.0);
  for (std::size_t i = 0; i < classes.size(); ++i) {
    pop.scar_means[i] = s.number(classes[i]);
    ssum += pop.scar_means[i];
  }
  const Table& ct = p.table("cause");
  const std::vector<std::string> causes = lesions::scar_cause_names();
  double csum = 0.0;
  std::string first_cause;
  for (const auto& n : causes) {
    if (!ct.value(n).defaulted && first_cause.empty()) first_cause = n;
    csum += ct.number(n);
  }
  if (!first_cause.empty()) {
    if (std::abs(csum - 1.0) > 1e-6) {
      ct.fail(first_cause, fmt::format("the cause shares sum to {:g}", csum),
              fmt::format("shares of {} that sum to 1", fmt::join(causes, ", ")));
    }
    for (const auto& n : causes) pop.cause_shares.push_back(ct.number(n));
    if (pop.cause_shares.front() > 0 && !(ssum > 0)) {
      ct.fail(lesions::kAcneCause, "is given, but every [population.scars] count is zero",
              "acne = 0, or mean counts in [population.scars]");
    }
    // The inclusion check below needs scars of some cause given a share.
    double any = pop.cause_shares.front() > 0 ? ssum : 0.0;
    for (std::size_t i = 1; i < causes.size(); ++i) {
      if (pop.cause_shares[i] > 0) any += lesions::default_scar_causes().causes()[i - 1].scars.si;
    }
    ssum = any;
  }
  const Table& gt = p.table("glogau");
  for (int i = 0; i < skin::kGlogauTypes; ++i) {
    pop.glogau_weights[static_cast<std::size_t>(i)] = gt.number(fmt::format("type_{}", i + 1));
  }
  for (const char* k : {"min_baseline_grade", "min_baseline_score"}) {
    if (p.integer(k) > 0 && !(ssum > 0)) {
      p.fail(k, "needs scars, but every scar count is zero",
             "a positive mean count in [population.scars]");
    }
  }
  const Table& v = root.table("variability");
  c.variability.collagen_synthesis = v.number("collagen_synthesis");
  c.variability.growth_factor_supply = v.number("growth_factor_supply");
  c.variability.fibroblast_proliferation = v.number("fibroblast_proliferation");
  c.variability.melanin_rate = v.number("melanin_rate");
  c.posterior_draws = static_cast<int>(root.table("bands").integer("posterior_draws"));
  const auto& arms = root.tables("arms");
  if (arms.empty()) {
    c.arms = {Arm{"protocol", read_reduced_protocol(root.table("protocol"))}};
    return c;
  }
  const Table& single = root.table("protocol");
  for (const auto& k : single.order()) {
    if (single.has(k) && !single.value(k).defaulted) {
      single.fail(k, "is given with [[arms]]", "each arm's protocol in [arms.protocol]");
    }
  }
  for (const auto& k : {"device", "technique"}) {
    if (single.has_table(k)) {
      single.table(k).fail("kind", "is given with [[arms]]",
                           "each arm's protocol in [arms.protocol]");
    }
  }
  if (arms.size() < 2) {
    arms.front().fail("name", "is the only arm", "two or more [[arms]], or one [protocol]");
  }
  c.arms.clear();
  for (const Table& a : arms) {
    const std::string& name = a.str("name");
    const bool ok =
        !name.empty() && name.size() <= 40 && std::all_of(name.begin(), name.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
        });
    if (!ok)
      a.fail("name", fmt::format("'{}' is not a usable arm name", name),
             "1 to 40 letters, digits, _ or -");
    for (const Arm& b : c.arms) {
      if (b.name == name) a.fail("name", fmt::format("'{}' names two arms", name), "unique names");
    }
    c.arms.push_back(Arm{name, read_reduced_protocol(a.table("protocol"))});
  }
  return c;
}

CohortSpec load_cohort(const std::string& path, const std::vector<Override>& overrides) {
  return read_cohort(io::load_toml_file(path, cohort_schema(), "a TOML cohort file", overrides));
}

RateFactors draw_rates(const Variability& v, std::uint64_t seed, std::uint64_t index) {
  Rng r(seed, kStreamVariability, index);
  RateFactors f;
  f.collagen_synthesis = std::exp(v.collagen_synthesis * r.normal());
  f.growth_factor_supply = std::exp(v.growth_factor_supply * r.normal());
  f.fibroblast_proliferation = std::exp(v.fibroblast_proliferation * r.normal());
  f.melanin_rate = std::exp(v.melanin_rate * r.normal());
  return f;
}

namespace {

/// The lesions of one drawn inventory (scar_geometry's floor depths, most of a draw's cost, are
/// computed only for the inventory that is kept).
std::vector<lesions::LesionPtr> draw_scars(Rng& r, const std::vector<double>& means,
                                           double skin_depth) {
  const auto& data = lesions::default_lesion_data();
  const std::vector<std::string> classes = lesions::inventory_classes();
  lesions::DrawLimits caps;  // lengths are not capped: the reduced model has no patch
  caps.max_depth = 0.9 * skin_depth;
  std::vector<lesions::LesionPtr> out;
  for (std::size_t c = 0; c < classes.size() && c < means.size(); ++c) {
    const long long n = poisson(r, means[c]);
    for (long long i = 0; i < n; ++i)
      out.push_back(lesions::draw_lesion(classes[c], r, data, caps));
  }
  return out;
}

}  // namespace

VirtualPatient draw_patient(const ReducedModel& m, const CohortSpec& c, std::uint64_t index) {
  Rng r(c.seed, kStreamCohort, index);
  const Population& pop = c.population;
  VirtualPatient v;
  PatientSpec& s = v.spec;
  double age = pop.age_mean;
  for (int k = 0; k < 100; ++k) {
    age = r.normal(pop.age_mean, pop.age_sd);
    if (age >= pop.age_min && age <= pop.age_max) break;
  }
  s.age_years = std::clamp(age, pop.age_min, pop.age_max);
  s.sex = r.uniform() < pop.female_fraction ? skin::Sex::Female : skin::Sex::Male;
  s.fitzpatrick = 1 + categorical(r, pop.fitzpatrick_weights);
  {
    double ws = 0;
    for (const auto& [k, w] : pop.sites) ws += w;
    double u = r.uniform() * ws;
    s.site = pop.sites.back().first;
    for (const auto& [k, w] : pop.sites) {
      if (u < w) {
        s.site = k;
        break;
      }
      u -= w;
    }
  }
  // The cause of the scars and the photoageing type: drawn only when the population gives them
  // (a population without them draws as before, bit for bit).
  std::vector<double> means = pop.scar_means;
  if (!pop.cause_shares.empty()) {
    v.cause = categorical(r, pop.cause_shares);
    if (v.cause > 0) {
      means = lesions::default_scar_causes()
                  .causes()[static_cast<std::size_t>(v.cause - 1)]
                  .class_means();
    }
  }
  if (std::any_of(pop.glogau_weights.begin(), pop.glogau_weights.end(),
                  [](double w) { return w > 0; })) {
    s.glogau = 1 + categorical(r, pop.glogau_weights);
    if (s.glogau <= 2) {  // no wrinkles at rest (Glogau 1996: none; wrinkles in motion only)
      const std::vector<std::string> classes = lesions::inventory_classes();
      for (std::size_t i = 0; i < classes.size(); ++i) {
        if (lesions::kind_of_class(classes[i]).name == "wrinkle") means[i] = 0.0;
      }
    }
  }
  const skin::SkinProfile prof = patient_profile(*m.atlas, s);
  const double skin_depth = prof.top_of(skin::Layer::Hypodermis);
  // Inclusion: the inventory is redrawn until its baseline grades are in range (up to 1000
  // times; a population that cannot meet it is an error, not a silently wrong cohort).
  bool included = false;
  std::vector<lesions::LesionPtr> drawn;
  for (int k = 0; k < 1000 && !included; ++k) {
    drawn = draw_scars(r, means, skin_depth);
    std::vector<outcomes::ScarState> st;
    for (const auto& l : drawn) {
      const outcomes::ScarGeometry g = outcomes::scar_outline(*l);
      st.push_back({g.kind, g.depth, g.width});
    }
    const int qual = outcomes::qualitative_grade(st, m.grading);
    const int quant = outcomes::quantitative_score(st, m.grading);
    included = qual >= pop.min_baseline_grade && qual <= pop.max_baseline_grade &&
               quant >= pop.min_baseline_score && quant <= pop.max_baseline_score;
  }
  if (!included) {
    throw InputError(pop.inclusion_loc, pop.inclusion_key,
                     fmt::format("patient {}: no scar inventory of 1000 drawn meets the inclusion "
                                 "grades (qualitative {}-{}, quantitative {}-{})",
                                 index, pop.min_baseline_grade, pop.max_baseline_grade,
                                 pop.min_baseline_score, pop.max_baseline_score),
                     "inclusion ranges this population's scar counts can reach");
  }
  s.scars.clear();
  for (const auto& l : drawn) s.scars.push_back(outcomes::scar_geometry(*l));
  v.rates = draw_rates(c.variability, c.seed, index);
  // The session count: its own stream, one draw shared by every arm (a patient who stops early
  // stops on both sides of a split face).
  v.session_draw = Rng(c.seed, kStreamSessionCount, index).uniform();
  return v;
}

int patient_sessions(const ReducedProtocol& pr, double u) {
  if (pr.session_counts.empty()) return pr.sessions;
  double w = 0.0;
  for (const auto& [n, wt] : pr.session_counts) w += wt;
  double x = u * w;
  for (const auto& [n, wt] : pr.session_counts) {
    if (x < wt) return n;
    x -= wt;
  }
  for (auto it = pr.session_counts.rbegin(); it != pr.session_counts.rend(); ++it) {
    if (it->second > 0) return it->first;
  }
  return pr.sessions;
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Summary summarize_rows(const std::vector<PatientRow>& rows,
                       const std::function<double(const PatientRow&)>& f) {
  std::vector<double> x;
  x.reserve(rows.size());
  for (const auto& r : rows) x.push_back(f(r));
  return summarize(x);
}

TimeSummary summarize_time(const std::vector<PatientRow>& rows, std::size_t j) {
  TimeSummary ts;
  const double dn = std::max<double>(1.0, static_cast<double>(rows.size()));
  auto at = [j](const PatientRow& r) -> const TimedOutcome& { return r.outcome.at[j]; };
  if (!rows.empty()) ts.follow_up = at(rows.front()).follow_up;
  ts.quant_after = summarize_rows(rows, [&](const PatientRow& r) { return at(r).gb_quant_after; });
  ts.qual_after = summarize_rows(rows, [&](const PatientRow& r) { return at(r).gb_qual_after; });
  std::vector<double> quant;
  std::array<std::size_t, 5> grade{};
  std::array<std::size_t, 4> cats{};
  std::size_t imp1 = 0, imp2 = 0, responders = 0;
  for (const auto& r : rows) {
    const TimedOutcome& o = at(r);
    quant.push_back(o.gb_quant_after);
    ++grade[static_cast<std::size_t>(std::clamp(o.gb_qual_after, 0, 4))];
    const int drop = r.outcome.gb_qual_before - o.gb_qual_after;
    if (drop >= 1) ++imp1;
    if (drop >= 2) ++imp2;
    const double red = o.depth_reduction_pct;
    ++cats[red < 25 ? 0 : red < 50 ? 1 : red < 75 ? 2 : 3];
    if (red >= 50) ++responders;
  }
  for (std::size_t g = 0; g < grade.size(); ++g) ts.qual_after_fractions[g] = grade[g] / dn;
  for (std::size_t c = 0; c < cats.size(); ++c) ts.improvement_fractions[c] = cats[c] / dn;
  ts.improved_1_grade_fraction = imp1 / dn;
  ts.improved_2_grades_fraction = imp2 / dn;
  ts.responder_fraction = responders / dn;
  ts.quant_after_p10 = stats::quantile(quant, 0.1);
  ts.quant_after_p50 = stats::quantile(quant, 0.5);
  ts.quant_after_p90 = stats::quantile(quant, 0.9);
  auto pct = [&](double TimedOutcome::*m) {
    return summarize_rows(rows, [&](const PatientRow& r) { return 100.0 * (at(r).*m); });
  };
  ts.scar_depth_reduction_pct =
      summarize_rows(rows, [&](const PatientRow& r) { return at(r).depth_reduction_pct; });
  ts.papillary_collagen_change_pct = pct(&TimedOutcome::papillary_collagen_change);
  ts.reticular_collagen_change_pct = pct(&TimedOutcome::reticular_collagen_change);
  ts.dermal_collagen_change_pct = pct(&TimedOutcome::dermal_collagen_change);
  ts.papillary_elastin_change_pct = pct(&TimedOutcome::papillary_elastin_change);
  ts.reticular_elastin_change_pct = pct(&TimedOutcome::reticular_elastin_change);
  ts.epidermal_thickness_change_pct = pct(&TimedOutcome::epidermal_thickness_change);
  ts.dermal_thickness_change_um = summarize_rows(
      rows, [&](const PatientRow& r) { return 1e6 * at(r).dermal_thickness_change; });
  return ts;
}

void summarize_arm(const ReducedModel& m, ArmResult& res, const ReducedProtocol& pr) {
  const auto& rows = res.rows;
  const double dn = std::max<double>(1.0, static_cast<double>(rows.size()));
  res.quant_before =
      summarize_rows(rows, [](const PatientRow& r) { return r.outcome.gb_quant_before; });
  res.qual_before =
      summarize_rows(rows, [](const PatientRow& r) { return r.outcome.gb_qual_before; });
  res.sessions = summarize_rows(rows, [](const PatientRow& r) { return r.outcome.sessions; });
  res.erythema_days =
      summarize_rows(rows, [](const PatientRow& r) { return r.outcome.erythema_days; });
  res.barrier_hours =
      summarize_rows(rows, [](const PatientRow& r) { return r.outcome.barrier_hours; });
  res.erythema_days_mean = res.erythema_days.mean;
  double pih = 0, past = 0;
  std::array<std::size_t, 5> grade{};
  for (const auto& r : rows) {
    ++grade[static_cast<std::size_t>(std::clamp(r.outcome.gb_qual_before, 0, 4))];
    if (r.pih) pih += 1;
    if (r.past_dermis) past += 1;
    PihByType& t = res.pih_by_fitzpatrick[static_cast<std::size_t>(
        std::clamp(r.patient.spec.fitzpatrick, 1, 6) - 1)];
    ++t.patients;
    if (r.pih) ++t.events;
    t.risk_mean += r.outcome.pih_risk;
  }
  for (auto& t : res.pih_by_fitzpatrick) {
    if (t.patients > 0) t.risk_mean /= static_cast<double>(t.patients);
  }
  for (std::size_t g = 0; g < grade.size(); ++g) res.qual_before_fractions[g] = grade[g] / dn;
  res.pih_incidence = pih / dn;
  res.past_dermis_patients = static_cast<std::size_t>(past);
  res.past_dermis_fraction = past / dn;
  const std::vector<double> times = pr.outcome_times();
  res.times.clear();
  for (std::size_t j = 0; j < times.size(); ++j) {
    res.times.push_back(summarize_time(rows, j));
    res.times.back().follow_up = times[j];
    if (times[j] == pr.follow_up) res.headline = j;
  }
  const TimeSummary& h = res.times[res.headline];
  res.quant_after = h.quant_after;
  res.qual_after = h.qual_after;
  res.improved_1_grade_fraction = h.improved_1_grade_fraction;
  res.improved_2_grades_fraction = h.improved_2_grades_fraction;
  res.scar_depth_reduction_pct_mean = h.scar_depth_reduction_pct.mean;
  res.collagen_change_pct_mean = h.papillary_collagen_change_pct.mean;
  res.applications.clear();
  for (std::size_t k = 0; k < pr.applications.size(); ++k) {
    ArmResult::Applied a;
    a.agent = pr.applications[k].agent;
    a.unit = a.agent == "prp" ? "ng/cm^2" : "ug/cm^2";
    auto dose = [k](const PatientRow& r) -> const PatientOutcome::AppliedDose* {
      return k < r.outcome.applications.size() ? &r.outcome.applications[k] : nullptr;
    };
    a.applied = summarize_rows(rows, [&](const PatientRow& r) {
      const auto* d = dose(r);
      return d ? d->applied : 0.0;
    });
    a.delivered = summarize_rows(rows, [&](const PatientRow& r) {
      const auto* d = dose(r);
      return d ? d->delivered : 0.0;
    });
    for (std::size_t l = 0; l < skin::kLayers; ++l) {
      a.by_layer[l] = summarize_rows(rows, [&](const PatientRow& r) {
        const auto* d = dose(r);
        return d ? d->by_layer[l] : 0.0;
      });
    }
    res.applications.push_back(std::move(a));
  }
  (void)m;
}

PairedDifference paired_metric(const std::string& name, const ArmResult& a, const ArmResult& ref,
                               std::size_t ja, std::size_t jr,
                               const std::function<double(const PatientRow&, std::size_t)>& f,
                               bool higher_is_better) {
  PairedDifference d;
  d.metric = name;
  std::vector<double> diff;
  for (std::size_t i = 0; i < a.rows.size() && i < ref.rows.size(); ++i) {
    const double x = f(a.rows[i], ja) - f(ref.rows[i], jr);
    diff.push_back(x);
    const double tol = 1e-9 * std::max(1.0, std::abs(f(ref.rows[i], jr)));
    if (std::abs(x) <= tol) {
      ++d.same;
    } else if ((x > 0) == higher_is_better) {
      ++d.better;
    } else {
      ++d.worse;
    }
  }
  const stats::PairedT t = stats::paired_t(diff);
  d.mean = t.mean;
  d.sd = t.sd;
  d.ci_low = t.ci_low;
  d.ci_high = t.ci_high;
  d.t = t.t;
  d.p = t.p;
  return d;
}

std::vector<PairedComparison> compare_arms(const std::vector<ArmResult>& arms) {
  std::vector<PairedComparison> out;
  if (arms.size() < 2) return out;
  const ArmResult& ref = arms.front();
  for (std::size_t k = 1; k < arms.size(); ++k) {
    const ArmResult& a = arms[k];
    // Outcome times present in both arms.
    for (std::size_t ja = 0; ja < a.times.size(); ++ja) {
      for (std::size_t jr = 0; jr < ref.times.size(); ++jr) {
        if (a.times[ja].follow_up != ref.times[jr].follow_up) continue;
        PairedComparison c;
        c.arm = a.name;
        c.reference = ref.name;
        c.follow_up = a.times[ja].follow_up;
        using R = const PatientRow&;
        c.metrics.push_back(paired_metric(
            "scar_depth_reduction_pct", a, ref, ja, jr,
            [](R r, std::size_t j) { return r.outcome.at[j].depth_reduction_pct; }, true));
        c.metrics.push_back(paired_metric(
            "gb_quantitative_after", a, ref, ja, jr,
            [](R r, std::size_t j) { return r.outcome.at[j].gb_quant_after; }, false));
        c.metrics.push_back(paired_metric(
            "gb_qualitative_after", a, ref, ja, jr,
            [](R r, std::size_t j) { return r.outcome.at[j].gb_qual_after; }, false));
        c.metrics.push_back(paired_metric(
            "dermal_collagen_change_pct", a, ref, ja, jr,
            [](R r, std::size_t j) { return 100.0 * r.outcome.at[j].dermal_collagen_change; },
            true));
        c.metrics.push_back(paired_metric(
            "erythema_days", a, ref, ja, jr,
            [](R r, std::size_t) { return r.outcome.erythema_days; }, false));
        c.metrics.push_back(paired_metric(
            "pih_risk", a, ref, ja, jr, [](R r, std::size_t) { return r.outcome.pih_risk; },
            false));
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

/// Every patient of the cohort, drawn once for all arms (OpenMP over patients: about 3 ms each
/// with inclusion redraws). A population whose inclusion criteria cannot be met is an
/// InputError here (the lowest patient's, whatever the threads), before anything is simulated
/// or written.
std::vector<VirtualPatient> draw_patients(const ReducedModel& m, const CohortSpec& c, int threads) {
  const auto n = static_cast<std::size_t>(c.population.size);
  std::vector<VirtualPatient> out(n);
  std::vector<std::exception_ptr> errors(n);
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 8) num_threads(nt)
  for (std::size_t i = 0; i < n; ++i) {
    try {
      out[i] = draw_patient(m, c, i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

}  // namespace

bool cohort_pih_event(std::uint64_t seed, std::uint64_t patient, double risk) {
  Rng pr_rng(seed, kStreamPih, patient);
  return pr_rng.uniform() < risk;
}

namespace {

/// Patient i (drawn as `v`) treated with arm k: the outcome and the PIH event.
PatientRecord simulate_arm(const ReducedModel& m, const CohortSpec& c, const VirtualPatient& v,
                           std::size_t i, std::size_t k) {
  PatientRecord rec;
  rec.index = i * c.arms.size() + k;
  ReducedProtocol pr = c.arms[k].protocol;
  pr.sessions = patient_sessions(pr, v.session_draw);
  rec.outcome = m.simulate(v.spec, pr, v.rates);
  rec.pih = cohort_pih_event(c.seed, i, rec.outcome.pih_risk);
  return rec;
}

/// Every row's past_dermis, the arms' summaries and the paired comparisons of a cohort whose
/// rows hold every patient's outcome.
/// The parameter-uncertainty band of every arm's summary statistics when c.posterior_draws > 0
/// (CohortSpec::posterior_draws): the cohort's patients simulated again at each posterior draw.
void add_parameter_bands(const ReducedModel& m, const CohortSpec& c, CohortResult& res,
                         int threads);

void finish_cohort(const ReducedModel& m, const CohortSpec& c, CohortResult& res) {
  for (std::size_t k = 0; k < res.arms.size(); ++k) {
    for (auto& r : res.arms[k].rows) {
      const PatientSpec& ps = r.patient.spec;
      r.past_dermis = skin::past_dermis(r.outcome.deepest, patient_profile(*m.atlas, ps));
    }
    summarize_arm(m, res.arms[k], c.arms[k].protocol);
  }
  res.paired = compare_arms(res.arms);
}

/// Simulates the `patients` (draw_patients) without a recorded outcome in `known` (may be null;
/// indexed by patient * arms + arm); `record` (may be empty) is called for each simulated patient
/// and arm, from the worker threads.
/// With `selected` (a shard), only the patients it selects are simulated and the result is not
/// summarised (its rows hold the selected patients only).
CohortResult simulate_cohort(const ReducedModel& m, const CohortSpec& c,
                             const std::vector<VirtualPatient>& patients, int threads,
                             const std::vector<std::optional<PatientRecord>>* known,
                             const std::function<void(const PatientRecord&)>& record,
                             const std::function<bool(std::size_t)>& selected = {}) {
  CohortResult res;
  const std::size_t n = patients.size();
  const std::size_t na = c.arms.size();
  res.arms.resize(na);
  for (std::size_t k = 0; k < na; ++k) {
    res.arms[k].name = c.arms[k].name;
    res.arms[k].protocol = c.arms[k].protocol.describe();
    res.arms[k].rows.resize(n);
  }
  std::exception_ptr error;
  std::mutex mu;
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
  const auto work = static_cast<long long>(n * na);
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
  for (long long w = 0; w < work; ++w) {
    const auto i = static_cast<std::size_t>(w) / na, k = static_cast<std::size_t>(w) % na;
    if (selected && !selected(i)) continue;
    try {
      PatientRow& row = res.arms[k].rows[i];
      row.patient = patients[i];
      const std::size_t slot = i * na + k;
      if (known && (*known)[slot]) {
        row.outcome = (*known)[slot]->outcome;
        row.pih = (*known)[slot]->pih;
        continue;
      }
      PatientRecord rec = simulate_arm(m, c, row.patient, i, k);
      row.outcome = rec.outcome;
      row.pih = rec.pih;
      if (record) record(rec);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  if (selected) return res;
  finish_cohort(m, c, res);
  add_parameter_bands(m, c, res, threads);
  return res;
}

// The design of a cohort's parameter-uncertainty band: its posterior draws only.
BandDesign parameter_band_design(const ReducedModel& m, const CohortSpec& c) {
  BandSettings s;
  s.posterior_draws = c.posterior_draws;
  s.variability_draws = 0;
  s.seed = c.seed;
  return BandDesign(m, default_posterior_sample(), s);
}

// The cohort's statistics at each posterior draw, [arm][statistic][draw]: draw() gives the whole
// cohort simulated at draw k (summarised, as simulate_cohort gives it).
using BandValues = std::vector<std::vector<std::vector<double>>>;
void add_band_values(const CohortResult& r, BandValues& values) {
  values.resize(r.arms.size());
  for (std::size_t a = 0; a < r.arms.size(); ++a) {
    const auto stats = cohort_band_statistics(r.arms[a]);
    values[a].resize(stats.size());
    for (std::size_t j = 0; j < stats.size(); ++j) values[a][j].push_back(stats[j].second);
  }
}
void set_parameter_bands(const CohortSpec& c, const BandValues& values, CohortResult& res,
                         double cpu0) {
  for (std::size_t a = 0; a < res.arms.size(); ++a) {
    res.arms[a].parameter_bands.clear();
    for (const auto& v : values.at(a)) res.arms[a].parameter_bands.push_back(band_of(v));
  }
  res.posterior_draws = c.posterior_draws;
  res.band_cpu_seconds = process_cpu_seconds() - cpu0;
}

void add_parameter_bands(const ReducedModel& m, const CohortSpec& c, CohortResult& res,
                         int threads) {
  if (c.posterior_draws <= 0 || res.arms.empty()) return;
  const double cpu0 = process_cpu_seconds();
  const BandDesign design = parameter_band_design(m, c);
  // The same patients (common random numbers): only the parameters change from draw to draw.
  std::vector<VirtualPatient> patients;
  for (const PatientRow& r : res.arms.front().rows) patients.push_back(r.patient);
  CohortSpec once = c;
  once.posterior_draws = 0;
  BandValues values;
  for (std::size_t k = 0; k < design.size(); ++k) {
    add_band_values(simulate_cohort(design.model(k), once, patients, threads, nullptr, {}), values);
  }
  set_parameter_bands(c, values, res, cpu0);
}

// ---- the per-patient record file -------------------------------------------------------------

constexpr std::string_view kRecMagic = "MNSIMPAT";
constexpr std::uint32_t kRecFormat = 2;
constexpr std::size_t kRecHeader = 32;
constexpr std::uint32_t kMaxRecord = 1u << 20;

std::string record_header(std::uint64_t key, std::uint64_t patients) {
  io::ByteWriter w;
  w.u32(kRecFormat);
  w.u64(key);
  w.u64(patients);
  std::string h(kRecMagic);
  h += w.bytes();
  io::ByteWriter c;
  c.u32(io::crc32(w.bytes()));
  return h + c.take();
}

void encode_scars(io::ByteWriter& w, const std::vector<outcomes::RemodelResult>& scars) {
  w.u64(scars.size());
  for (const auto& sc : scars) {
    for (const double v : {sc.depth_before, sc.depth_after, sc.volume_before, sc.volume_after,
                           sc.fill, sc.release}) {
      w.f64(v);
    }
  }
}

std::vector<outcomes::RemodelResult> decode_scars(io::ByteReader& r) {
  std::vector<outcomes::RemodelResult> out;
  const std::uint64_t scars = r.count(r.left() / 48, "scar count");
  for (std::uint64_t k = 0; k < scars; ++k) {
    outcomes::RemodelResult sc;
    for (double* v : {&sc.depth_before, &sc.depth_after, &sc.volume_before, &sc.volume_after,
                      &sc.fill, &sc.release}) {
      *v = r.f64();
    }
    out.push_back(sc);
  }
  return out;
}

// The doubles of a patient's course-level outcome, in record order.
std::vector<double*> course_values(PatientOutcome& o) {
  return {&o.depth_reached,     &o.deepest,           &o.density,          &o.collagen1_share,
          &o.melanin_peak,      &o.pih_risk,          &o.erythema_days,    &o.barrier_hours,
          &o.neutrophil_peak_h, &o.macrophage_peak_h, &o.collagen3_peak_h, &o.collagen1_peak_h};
}

// The doubles of an outcome at one time, in record order.
std::vector<double*> timed_values(TimedOutcome& o) {
  return {&o.follow_up,
          &o.gain.papillary,
          &o.gain.reticular,
          &o.papillary_collagen_change,
          &o.reticular_collagen_change,
          &o.dermal_collagen_change,
          &o.papillary_elastin_change,
          &o.reticular_elastin_change,
          &o.epidermal_thickness_change,
          &o.dermal_thickness_change,
          &o.depth_reduction_pct};
}

std::string encode_record(const PatientRecord& r) {
  io::ByteWriter w;
  PatientOutcome o = r.outcome;
  w.u64(r.index);
  w.i64(o.sessions);
  for (const double* v : course_values(o)) w.f64(*v);
  w.u8(o.bled ? 1 : 0);
  for (const int v : {o.gb_quant_before, o.gb_qual_before}) w.i64(v);
  w.u64(o.headline);
  w.u64(o.at.size());
  for (TimedOutcome& t : o.at) {
    for (const double* v : timed_values(t)) w.f64(*v);
    for (const int v : {t.gb_quant_after, t.gb_qual_after}) w.i64(v);
    encode_scars(w, t.scars);
  }
  w.u8(r.pih ? 1 : 0);
  io::ByteWriter h;
  h.u32(static_cast<std::uint32_t>(w.bytes().size()));
  h.u32(io::crc32(w.bytes()));
  return h.take() + w.take();
}

PatientRecord decode_record(std::string_view payload, const std::string& file,
                            std::uint64_t patients) {
  io::ByteReader r(payload, file, "patient record");
  PatientRecord rec;
  rec.index = r.u64();
  if (rec.index >= patients) {
    r.fail(fmt::format("patient {} of a cohort of {}", rec.index, patients));
  }
  PatientOutcome& o = rec.outcome;
  auto grade = [&r]() {
    const std::int64_t x = r.i64();
    if (x < -1000 || x > 1000) r.fail(fmt::format("grade {}", x));
    return static_cast<int>(x);
  };
  const std::int64_t sessions = r.i64();
  if (sessions < 1 || sessions > 1000) r.fail(fmt::format("{} sessions", sessions));
  o.sessions = static_cast<int>(sessions);
  for (double* v : course_values(o)) *v = r.f64();
  o.bled = r.u8() != 0;
  o.gb_quant_before = grade();
  o.gb_qual_before = grade();
  const std::uint64_t headline = r.u64();
  const std::uint64_t times = r.count(r.left() / 100, "outcome times");
  if (times == 0 || headline >= times)
    r.fail(fmt::format("outcome time {} of {}", headline, times));
  for (std::uint64_t j = 0; j < times; ++j) {
    TimedOutcome t;
    for (double* v : timed_values(t)) *v = r.f64();
    t.gb_quant_after = grade();
    t.gb_qual_after = grade();
    t.scars = decode_scars(r);
    o.at.push_back(std::move(t));
  }
  o.use_headline(static_cast<std::size_t>(headline));
  rec.pih = r.u8() != 0;
  r.expect_end();
  return rec;
}

/// Appends records from the worker threads; writes and syncs at least every half second.
class RecordLog {
 public:
  RecordLog(const fs::path& path, std::size_t keep_bytes) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0 ||
        ::lseek(fd_, 0, SEEK_END) < 0) {
      fail("open", errno);
    }
  }
  ~RecordLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  void add(const PatientRecord& r) {
    const std::string rec = encode_record(r);
    std::lock_guard<std::mutex> lock(mu_);
    buf_ += rec;
    if (buf_.size() > (256u << 10) || Clock::now() - last_ > std::chrono::milliseconds(500)) {
      write_out();
    }
  }
  void flush() {
    std::lock_guard<std::mutex> lock(mu_);
    write_out();
  }

 private:
  [[noreturn]] void fail(const char* what, int err) const {
    throw OutputError(
        fmt::format("cannot write {}: {} ({})", path_.string(), what, std::strerror(err)));
  }
  void write_out() {
    std::size_t done = 0;
    while (done < buf_.size()) {
      const ssize_t k = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (k < 0) {
        if (errno == EINTR) continue;
        fail("write", errno);
      }
      done += static_cast<std::size_t>(k);
    }
    if (!buf_.empty() && ::fdatasync(fd_) != 0) fail("fsync", errno);
    buf_.clear();
    last_ = Clock::now();
  }

  fs::path path_;
  int fd_ = -1;
  std::mutex mu_;
  std::string buf_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace

std::uint64_t cohort_checkpoint_key(const CohortSpec& c) {
  io::ByteWriter w;
  for (const std::string& s :
       {std::string("mnsim cohort checkpoint"), version(), git_commit(), build_type()}) {
    w.str(s);
  }
  const Population& p = c.population;
  w.u64(c.seed);
  w.i64(p.size);
  for (const double v : {p.age_mean, p.age_sd, p.age_min, p.age_max, p.female_fraction}) w.f64(v);
  for (const double v : p.fitzpatrick_weights) w.f64(v);
  for (const auto& [site, weight] : p.sites) {
    w.str(site);
    w.f64(weight);
  }
  for (const double v : p.scar_means) w.f64(v);
  for (const double v : p.cause_shares) w.f64(v);
  for (const double v : p.glogau_weights) w.f64(v);
  for (const int x :
       {p.min_baseline_grade, p.max_baseline_grade, p.min_baseline_score, p.max_baseline_score}) {
    w.i64(x);
  }
  const Variability& v = c.variability;
  for (const double x :
       {v.collagen_synthesis, v.growth_factor_supply, v.fibroblast_proliferation, v.melanin_rate}) {
    w.f64(x);
  }
  for (const Arm& a : c.arms) {
    const ReducedProtocol& pr = a.protocol;
    w.str(a.name);
    w.f64(pr.needle_length);
    w.i64(pr.passes);
    w.i64(pr.sessions);
    for (const double x : {pr.interval, pr.follow_up, pr.time_step, pr.density, pr.depth_reached}) {
      w.f64(x);
    }
    // Every session's device and technique (the most sessions any patient can draw).
    int most = pr.sessions;
    for (const auto& [n, wt] : pr.session_counts) {
      most = std::max(most, n);
      w.i64(n);
      w.f64(wt);
    }
    for (int i = 0; i < most; ++i) {
      const SessionDevice d = pr.session_device(i);
      w.str(d.device.kind);
      w.str(d.device.model);
      w.str(d.device.settings.to_toml());
      w.i64(d.technique.passes);
      for (const double x : {d.technique.speed, d.technique.overlap, d.technique.force}) w.f64(x);
    }
    for (const double t : pr.outcome_times()) w.f64(t);
  }
  return io::fnv1a64(w.bytes());
}

std::vector<PatientRecord> decode_patient_records(std::string_view bytes, const std::string& file,
                                                  std::uint64_t key, std::uint64_t patients,
                                                  std::size_t* valid_bytes) {
  const char* expected = "an intact mnsim cohort checkpoint";
  if (bytes.size() < kRecHeader || bytes.substr(0, kRecMagic.size()) != kRecMagic) {
    throw InputError({file, 1, 1}, "(checkpoint)", "not an mnsim patient record file", expected);
  }
  io::ByteReader h(bytes.substr(kRecMagic.size(), kRecHeader - kRecMagic.size()), file, "header");
  const std::uint32_t format = h.u32();
  const std::uint64_t k = h.u64();
  const std::uint64_t n = h.u64();
  const std::uint32_t crc = h.u32();
  if (crc != io::crc32(bytes.substr(kRecMagic.size(), 20))) {
    throw InputError({file, 1, 1}, "(checkpoint)", "corrupted header (checksum mismatch)",
                     expected);
  }
  if (format != kRecFormat) {
    throw InputError({file, 1, 1}, "(checkpoint)",
                     fmt::format("record format {}; this mnsim reads {}", format, kRecFormat),
                     expected);
  }
  if (k != key || n != patients) {
    throw InputError({file, 1, 1}, "(checkpoint)", "was written for another cohort or mnsim build",
                     "a checkpoint of this cohort written by this mnsim build; delete the "
                     "checkpoint folder to start over");
  }
  std::vector<PatientRecord> out;
  std::size_t pos = kRecHeader;
  while (pos < bytes.size()) {
    const std::size_t left = bytes.size() - pos;
    if (left < 8) break;  // torn record header at the end
    io::ByteReader rh(bytes.substr(pos, 8), file, "record");
    const std::uint32_t len = rh.u32();
    const std::uint32_t rcrc = rh.u32();
    if (len > kMaxRecord) {
      throw InputError({file, 1, 1}, "(checkpoint)",
                       fmt::format("record at byte {} of {} bytes", pos, len), expected);
    }
    if (len > left - 8) break;  // torn payload at the end
    const std::string_view payload = bytes.substr(pos + 8, len);
    if (io::crc32(payload) != rcrc) {
      if (pos + 8 + len == bytes.size()) break;  // the last record, torn
      throw InputError({file, 1, 1}, "(checkpoint)",
                       fmt::format("record at byte {} is corrupted (checksum mismatch)", pos),
                       expected);
    }
    out.push_back(decode_record(payload, file, patients));
    pos += 8 + len;
  }
  if (valid_bytes) *valid_bytes = pos;
  return out;
}

CohortResult run_cohort(const ReducedModel& m, const CohortSpec& c, int threads) {
  return simulate_cohort(m, c, draw_patients(m, c, threads), threads, nullptr, {});
}

namespace {
/// cohort.json and the patients CSVs staged and committed as the folder's results.
void commit_results(io::OutputFolder& folder, const CohortSpec& c, const CohortResult& r,
                    std::uint64_t key) {
  io::write_file_atomic(folder.staging() / "cohort.json", cohort_json(r));
  std::vector<std::string> files{"cohort.json"};
  const std::vector<std::string> csv = patients_files(c);
  for (std::size_t k = 0; k < csv.size(); ++k) {
    io::write_file_atomic(folder.staging() / csv[k], patients_csv(r.arms[k]));
    files.push_back(csv[k]);
  }
  folder.commit(files, key);
}
}  // namespace

namespace {

// A drawn patient as bytes (every field, doubles bit for bit): the split run sends each
// patient's description with its outcomes to the root.
void encode_patient(io::ByteWriter& w, const VirtualPatient& v) {
  const PatientSpec& s = v.spec;
  w.str(s.site);
  w.f64(s.age_years);
  w.u8(static_cast<std::uint8_t>(s.sex));
  w.i64(s.fitzpatrick);
  w.i64(s.glogau);
  w.i64(v.cause);
  w.u64(s.scars.size());
  for (const auto& g : s.scars) {
    w.str(g.kind);
    for (const double x : {g.depth, g.width, g.volume, g.deficit, g.band_radius, g.band_collagen}) {
      w.f64(x);
    }
    w.u8(g.tethered ? 1 : 0);
    for (const double x : g.floor) w.f64(x);
  }
  const RateFactors& r = v.rates;
  for (const double x : {r.collagen_synthesis, r.growth_factor_supply, r.fibroblast_proliferation,
                         r.melanin_rate, v.session_draw}) {
    w.f64(x);
  }
}

VirtualPatient decode_patient(io::ByteReader& r) {
  VirtualPatient v;
  PatientSpec& s = v.spec;
  s.site = r.str(1000);
  s.age_years = r.f64();
  s.sex = static_cast<skin::Sex>(r.u8());
  s.fitzpatrick = static_cast<int>(r.i64());
  s.glogau = static_cast<int>(r.i64());
  v.cause = static_cast<int>(r.i64());
  const std::uint64_t scars = r.count(r.left() / 100, "scar count");
  for (std::uint64_t k = 0; k < scars; ++k) {
    outcomes::ScarGeometry g;
    g.kind = r.str(1000);
    for (double* x :
         {&g.depth, &g.width, &g.volume, &g.deficit, &g.band_radius, &g.band_collagen}) {
      *x = r.f64();
    }
    g.tethered = r.u8() != 0;
    for (double& x : g.floor) x = r.f64();
    s.scars.push_back(std::move(g));
  }
  RateFactors& f = v.rates;
  for (double* x : {&f.collagen_synthesis, &f.growth_factor_supply, &f.fibroblast_proliferation,
                    &f.melanin_rate, &v.session_draw}) {
    *x = r.f64();
  }
  return v;
}

// run_cohort over several ranks (CohortRunOptions::ranks).
CohortRun run_cohort_split(const ReducedModel& m, const CohortSpec& c, const CohortRunOptions& o) {
  const Ranks& ranks = *o.ranks;
  if (o.resume || o.shards > 0) {
    throw std::invalid_argument("run_cohort: no resume or shards over several ranks");
  }
  const auto n = static_cast<std::size_t>(c.population.size);
  const std::size_t na = c.arms.size();
  // Each rank draws its own patients first: a population whose inclusion criteria cannot be met
  // is the lowest patient's InputError on every rank, before the folder is opened.
  std::vector<std::optional<VirtualPatient>> drawn(n);
  (void)map_items(
      ranks, n,
      [&](std::size_t i) {
        drawn[i] = draw_patient(m, c, i);
        return std::string();
      },
      Deliver::Root, o.threads);
  // The root opens the folder (a foreign folder, one another process writes, or a checkpoint
  // without --force: an error on every rank, nothing simulated).
  std::optional<io::OutputFolder> folder;
  agree(ranks, [&] {
    if (!ranks.root()) return;
    folder.emplace(io::OutputFolder::open(o.out_dir, o.force, "mnsim cohort"));
    std::error_code ec;
    if (fs::exists(folder->checkpoints() / "patients.rec", ec) && !o.force) {
      throw InputError(
          {"command line", 0, 0}, "--out",
          fmt::format("'{}' holds the checkpoint of an unfinished cohort", o.out_dir.string()),
          "--force to start over, or continue it with --resume without mpirun");
    }
  });
  // Each patient's description and the records of every arm.
  const std::vector<std::string> parts = map_items(
      ranks, n,
      [&](std::size_t i) {
        io::ByteWriter w;
        encode_patient(w, *drawn[i]);
        for (std::size_t k = 0; k < na; ++k)
          w.str(encode_record(simulate_arm(m, c, *drawn[i], i, k)));
        return w.take();
      },
      Deliver::Root, o.threads);
  // The parameter-uncertainty band ([bands] posterior_draws): patient i simulated at every
  // posterior draw on the rank that drew it, every arm (the simulations add_parameter_bands
  // runs in one process, in the same order).
  const double band_cpu0 = process_cpu_seconds();
  std::vector<std::string> band;
  if (c.posterior_draws > 0 && na > 0) {
    CohortSpec once = c;
    once.posterior_draws = 0;
    const BandDesign design = parameter_band_design(m, c);
    band = map_items(
        ranks, n,
        [&](std::size_t i) {
          io::ByteWriter w;
          for (std::size_t k = 0; k < design.size(); ++k) {
            for (std::size_t a = 0; a < na; ++a)
              w.str(encode_record(simulate_arm(design.model(k), once, *drawn[i], i, a)));
          }
          return w.take();
        },
        Deliver::Root, o.threads);
  }
  CohortRun run;
  if (!ranks.root()) return run;
  CohortResult& res = run.result;
  res.arms.resize(na);
  for (std::size_t k = 0; k < na; ++k) {
    res.arms[k].name = c.arms[k].name;
    res.arms[k].protocol = c.arms[k].protocol.describe();
    res.arms[k].rows.resize(n);
  }
  const std::string from = "(rank results)";
  for (std::size_t i = 0; i < n; ++i) {
    io::ByteReader r(parts[i], from, "patient");
    const VirtualPatient v = decode_patient(r);
    for (std::size_t k = 0; k < na; ++k) {
      // encode_record's framing (u32 length, u32 checksum), then the payload.
      const std::string rec = r.str(parts[i].size());
      if (rec.size() < 8) r.fail("a patient record of fewer than 8 bytes");
      PatientRecord p = decode_record(std::string_view(rec).substr(8), from, n * na);
      PatientRow& row = res.arms[k].rows[i];
      row.patient = v;
      row.outcome = std::move(p.outcome);
      row.pih = p.pih;
    }
    r.expect_end();
  }
  finish_cohort(m, c, res);
  if (!band.empty()) {
    // The parameter-uncertainty band: the cohort at each posterior draw, put together from
    // every rank's patients and summarised as one process does (add_parameter_bands).
    CohortSpec once = c;
    once.posterior_draws = 0;
    const BandDesign design = parameter_band_design(m, c);
    std::vector<io::ByteReader> readers;
    readers.reserve(n);
    for (std::size_t i = 0; i < n; ++i) readers.emplace_back(band[i], from, "band patient");
    BandValues values;
    for (std::size_t k = 0; k < design.size(); ++k) {
      CohortResult r;
      r.arms.resize(na);
      for (std::size_t a = 0; a < na; ++a) {
        r.arms[a].name = c.arms[a].name;
        r.arms[a].protocol = c.arms[a].protocol.describe();
        r.arms[a].rows.resize(n);
      }
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t a = 0; a < na; ++a) {
          const std::string rec = readers[i].str(band[i].size());
          if (rec.size() < 8) readers[i].fail("a patient record of fewer than 8 bytes");
          PatientRecord p = decode_record(std::string_view(rec).substr(8), from, n * na);
          PatientRow& row = r.arms[a].rows[i];
          row.patient = res.arms[a].rows[i].patient;
          row.outcome = std::move(p.outcome);
          row.pih = p.pih;
        }
      }
      finish_cohort(design.model(k), once, r);
      add_band_values(r, values);
    }
    for (auto& rd : readers) rd.expect_end();
    set_parameter_bands(c, values, res, band_cpu0);
  }
  commit_results(*folder, c, res, cohort_checkpoint_key(c));
  return run;
}

}  // namespace

CohortRun run_cohort(const ReducedModel& m, const CohortSpec& c, const CohortRunOptions& o) {
  if (o.ranks != nullptr && o.ranks->several()) return run_cohort_split(m, c, o);
  if (o.shards < 0 || (o.shards > 0 && (o.shard < 1 || o.shard > o.shards))) {
    throw std::invalid_argument("run_cohort: shard i of N needs 1 <= i <= N");
  }
  // Every patient drawn before anything is written: a population whose inclusion criteria
  // cannot be met is an input error that leaves no output folder behind.
  const std::vector<VirtualPatient> patients = draw_patients(m, c, o.threads);
  io::OutputFolder folder = io::OutputFolder::open(o.out_dir, o.force, "mnsim cohort");
  const fs::path dir = folder.checkpoints();
  const fs::path file = dir / "patients.rec";
  const std::uint64_t key = cohort_checkpoint_key(c);
  // One record per patient and arm.
  const auto n = static_cast<std::uint64_t>(c.population.size) * c.arms.size();
  std::error_code ec;
  CohortRun run;
  std::vector<std::optional<PatientRecord>> known(static_cast<std::size_t>(n));
  std::size_t keep = 0;
  if (fs::exists(file, ec) && o.resume) {
    const std::string bytes =
        io::open_input_file(file, "(checkpoint)", "an mnsim patient record file")
            .read_all(io::kMaxCheckpointBytes);
    for (auto& r : decode_patient_records(bytes, file.string(), key, n, &keep)) {
      auto& slot = known[static_cast<std::size_t>(r.index)];
      if (!slot) ++run.resumed_patients;
      slot = std::move(r);
    }
  } else if (fs::exists(file, ec) && !o.force) {
    throw InputError(
        {"command line", 0, 0}, "--out",
        fmt::format("'{}' holds the checkpoint of an unfinished cohort", o.out_dir.string()),
        "--resume to continue it, or --force to start over");
  }
  if (keep == 0) {
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) throw OutputError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    io::write_file_atomic(file, record_header(key, n));
    keep = kRecHeader;
  }
  io::remove_stale_temporaries(dir);
  RecordLog log(file, keep);
  const bool sharded = o.shards > 0;
  std::function<bool(std::size_t)> selected;
  if (sharded) {
    selected = [&](std::size_t i) { return io::in_shard(i, o.shard, o.shards); };
  }
  run.result = simulate_cohort(
      m, c, patients, o.threads, &known, [&](const PatientRecord& r) { log.add(r); }, selected);
  log.flush();
  if (sharded) {
    // A shard's results: its patients' records and what they are (mnsim merge reads both).
    std::size_t in = 0;
    for (std::size_t i = 0; i < patients.size(); ++i) in += selected(i) ? 1 : 0;
    run.shard_patients = in;
    io::write_file_atomic(folder.staging() / "shard.rec",
                          io::open_input_file(file, "(checkpoint)", "an mnsim patient record file")
                              .read_all(io::kMaxCheckpointBytes));
    nlohmann::ordered_json j;
    j["mnsim_cohort_shard"] = 1;
    j["shard"] = o.shard;
    j["shards"] = o.shards;
    j["patients"] = c.population.size;
    j["arms"] = c.arms.size();
    j["patients_in_shard"] = in;
    j["key"] = fmt::format("{:016x}", key);
    io::write_file_atomic(folder.staging() / "shard.json", j.dump(2) + "\n");
    folder.commit({"shard.json", "shard.rec"}, key);
    return run;
  }
  // The results replace the folder's earlier ones together; the record file has served.
  commit_results(folder, c, run.result, key);
  return run;
}

CohortRun merge_cohort(const ReducedModel& m, const CohortSpec& c,
                       const std::vector<fs::path>& shard_dirs, const CohortRunOptions& o) {
  const std::uint64_t key = cohort_checkpoint_key(c);
  const auto n = static_cast<std::uint64_t>(c.population.size) * c.arms.size();
  std::vector<std::optional<PatientRecord>> known(static_cast<std::size_t>(n));
  io::ShardSplit split;
  const SourceLoc cli{"command line", 0, 0};
  for (const fs::path& d : shard_dirs) {
    const fs::path jf = d / "shard.json";
    std::error_code ec;
    if (!fs::is_regular_file(jf, ec)) {
      throw InputError(cli, d.string(),
                       "is not the output folder of a cohort shard (no shard.json)",
                       "folders written by `mnsim cohort FILE --shard i/N --out DIR`");
    }
    const nlohmann::json j = nlohmann::json::parse(
        io::read_text_file(jf, std::size_t{1} << 20, "a cohort shard description"), nullptr, false);
    if (j.is_discarded() || !j.contains("mnsim_cohort_shard") || !j.contains("shard") ||
        !j.contains("shards") || !j.contains("key") || !j["shard"].is_number_integer() ||
        !j["shards"].is_number_integer() || !j["key"].is_string()) {
      throw InputError({jf.string(), 1, 1}, "shard.json", "not a cohort shard description",
                       "the shard.json that `mnsim cohort --shard` writes");
    }
    const int shard = j["shard"].get<int>(), count = j["shards"].get<int>();
    if (j["key"].get<std::string>() != fmt::format("{:016x}", key)) {
      throw InputError(cli, d.string(),
                       "was written for another cohort file or by another mnsim build",
                       "shards of this cohort file, run by this mnsim build");
    }
    split.take(d, shard, count);
    const fs::path rf = d / "shard.rec";
    const std::string bytes = io::open_input_file(rf, "(shard)", "an mnsim patient record file")
                                  .read_all(io::kMaxCheckpointBytes);
    std::size_t valid = 0;
    for (auto& r : decode_patient_records(bytes, rf.string(), key, n, &valid)) {
      const std::size_t patient = static_cast<std::size_t>(r.index) / c.arms.size();
      if (!io::in_shard(patient, shard, count)) {
        throw InputError(
            {rf.string(), 1, 1}, "(shard)",
            fmt::format("holds patient {}, who is not in shard {}/{}", patient + 1, shard, count),
            "the records `mnsim cohort --shard` wrote");
      }
      known[static_cast<std::size_t>(r.index)] = std::move(r);
    }
    if (valid != bytes.size()) {
      throw InputError({rf.string(), 1, 1}, "(shard)", "ends in a torn record",
                       fmt::format("rerun shard {}/{}", shard, count));
    }
  }
  split.require_all("mnsim cohort FILE --shard i/N --out DIR");
  const int shards = split.shards();
  for (std::size_t slot = 0; slot < known.size(); ++slot) {
    if (!known[slot]) {
      const std::size_t patient = slot / c.arms.size();
      const int s = static_cast<int>(patient % static_cast<std::size_t>(shards)) + 1;
      throw InputError(
          {split.folder(s), 0, 0}, "(shard)",
          fmt::format("shard {}/{} lacks patient {}: it did not finish", s, shards, patient + 1),
          fmt::format("rerun shard {}/{} (with --resume to keep what it has)", s, shards));
    }
  }
  // Every outcome is known: the patients are drawn again (deterministic) only for their
  // descriptions, nothing is simulated, and the summary is the unsharded run's.
  const std::vector<VirtualPatient> patients = draw_patients(m, c, o.threads);
  CohortRun run;
  run.result = simulate_cohort(m, c, patients, o.threads, &known, {});
  run.resumed_patients = static_cast<std::size_t>(n);
  io::OutputFolder folder = io::OutputFolder::open(o.out_dir, o.force, "mnsim merge");
  commit_results(folder, c, run.result, key);
  return run;
}

namespace {

nlohmann::ordered_json summary_json(const Summary& s) {
  return nlohmann::ordered_json{{"mean", s.mean}, {"sd", s.sd}};
}

nlohmann::ordered_json time_json(const TimeSummary& t, const ArmResult& arm) {
  nlohmann::ordered_json j;
  j["follow_up_weeks"] = t.follow_up / kWeek;
  nlohmann::ordered_json gb;
  gb["quantitative"] = {{"before_mean", arm.quant_before.mean}, {"before_sd", arm.quant_before.sd},
                        {"after_mean", t.quant_after.mean},     {"after_sd", t.quant_after.sd},
                        {"after_p10", t.quant_after_p10},       {"after_median", t.quant_after_p50},
                        {"after_p90", t.quant_after_p90}};
  gb["qualitative"] = {{"before_mean", arm.qual_before.mean},
                       {"before_sd", arm.qual_before.sd},
                       {"after_mean", t.qual_after.mean},
                       {"after_sd", t.qual_after.sd},
                       {"before_grade_fractions", arm.qual_before_fractions},
                       {"after_grade_fractions", t.qual_after_fractions}};
  j["goodman_baron"] = gb;
  j["improved_1_grade_fraction"] = t.improved_1_grade_fraction;
  j["improved_2_grades_fraction"] = t.improved_2_grades_fraction;
  nlohmann::ordered_json cat;
  for (std::size_t i = 0; i < kImprovementCategories.size(); ++i) {
    cat[kImprovementCategories[i]] = t.improvement_fractions[i];
  }
  j["improvement_fractions"] = cat;
  j["responder_fraction"] = t.responder_fraction;
  j["scar_depth_reduction_pct"] = summary_json(t.scar_depth_reduction_pct);
  j["collagen_change_pct"] = {{"papillary", summary_json(t.papillary_collagen_change_pct)},
                              {"reticular", summary_json(t.reticular_collagen_change_pct)},
                              {"dermis", summary_json(t.dermal_collagen_change_pct)}};
  j["elastin_change_pct"] = {{"papillary", summary_json(t.papillary_elastin_change_pct)},
                             {"reticular", summary_json(t.reticular_elastin_change_pct)}};
  j["dermal_thickness_change_um"] = summary_json(t.dermal_thickness_change_um);
  j["epidermal_thickness_change_pct"] = summary_json(t.epidermal_thickness_change_pct);
  return j;
}

nlohmann::ordered_json arm_json(const ArmResult& r) {
  nlohmann::ordered_json j;
  j["n"] = r.rows.size();
  j["protocol"] = r.protocol;
  // The headline time (follow_up) at the top level, as before arms and times existed.
  j["follow_up_weeks"] = r.times.empty() ? 0.0 : r.times[r.headline].follow_up / kWeek;
  auto sum = [](const Summary& b, const Summary& a) {
    nlohmann::ordered_json o;
    o["before_mean"] = b.mean;
    o["before_sd"] = b.sd;
    o["after_mean"] = a.mean;
    o["after_sd"] = a.sd;
    return o;
  };
  j["goodman_baron"]["quantitative"] = sum(r.quant_before, r.quant_after);
  j["goodman_baron"]["qualitative"] = sum(r.qual_before, r.qual_after);
  j["improved_1_grade_fraction"] = r.improved_1_grade_fraction;
  j["improved_2_grades_fraction"] = r.improved_2_grades_fraction;
  j["pih_incidence"] = r.pih_incidence;
  nlohmann::ordered_json by_type = nlohmann::ordered_json::array();
  for (std::size_t t = 0; t < r.pih_by_fitzpatrick.size(); ++t) {
    const PihByType& p = r.pih_by_fitzpatrick[t];
    by_type.push_back(
        {{"fitzpatrick", t + 1},
         {"patients", p.patients},
         {"events", p.events},
         {"incidence",
          p.patients ? static_cast<double>(p.events) / static_cast<double>(p.patients) : 0.0},
         {"risk_mean", p.risk_mean}});
  }
  j["pih_by_fitzpatrick"] = by_type;
  j["erythema_days_mean"] = r.erythema_days_mean;
  j["erythema_days"] = summary_json(r.erythema_days);
  j["barrier_recovery_hours"] = summary_json(r.barrier_hours);
  j["sessions"] = summary_json(r.sessions);
  j["scar_depth_reduction_pct_mean"] = r.scar_depth_reduction_pct_mean;
  j["past_dermis_fraction"] = r.past_dermis_fraction;
  nlohmann::ordered_json times = nlohmann::ordered_json::array();
  for (const auto& t : r.times) times.push_back(time_json(t, r));
  j["times"] = times;
  if (!r.applications.empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& a : r.applications) {
      nlohmann::ordered_json e;
      e["agent"] = a.agent;
      e["unit"] = a.unit;
      e["applied"] = summary_json(a.applied);
      e["delivered"] = summary_json(a.delivered);
      nlohmann::ordered_json layers;
      for (int l = 0; l < skin::kLayers; ++l) {
        layers[std::string(skin::layer_name(skin::layer_from_index(l)))] =
            summary_json(a.by_layer[static_cast<std::size_t>(l)]);
      }
      e["in_tissue_by_layer"] = layers;
      e["by_layer_when"] =
          a.agent == "prp" ? "as applied (first session)" : "1 h after the first application";
      list.push_back(e);
    }
    j["applications"] = list;
  }
  if (!r.parameter_bands.empty()) {
    nlohmann::ordered_json pb;
    pb["what"] =
        "parameter uncertainty: 10-90% of each statistic over posterior draws of the calibrated "
        "parameters (data/posterior_sample.toml), the same patients simulated at each draw; the "
        "spread between patients is the cohort itself";
    pb["draws"] = r.parameter_bands.front().draws;
    const auto stats = cohort_band_statistics(r);
    for (std::size_t i = 0; i < stats.size() && i < r.parameter_bands.size(); ++i) {
      const Band& b = r.parameter_bands[i];
      pb[stats[i].first] = {
          {"value", stats[i].second}, {"p10", b.p10}, {"p50", b.p50}, {"p90", b.p90}};
    }
    j["parameter_uncertainty"] = pb;
  }
  return j;
}

}  // namespace

std::vector<std::pair<std::string, double>> cohort_band_statistics(const ArmResult& a) {
  if (a.times.empty()) return {};
  const TimeSummary& t = a.times[a.headline];
  return {{"scar_depth_reduction_pct_mean", t.scar_depth_reduction_pct.mean},
          {"responder_fraction", t.responder_fraction},
          {"improved_1_grade_fraction", t.improved_1_grade_fraction},
          {"gb_quantitative_after_mean", t.quant_after.mean},
          {"gb_qualitative_after_mean", t.qual_after.mean},
          {"dermal_collagen_change_pct_mean", t.dermal_collagen_change_pct.mean},
          {"erythema_days_mean", a.erythema_days_mean},
          {"pih_incidence", a.pih_incidence}};
}

std::string cohort_json(const CohortResult& r) {
  if (r.arms.size() == 1) return arm_json(r.arms.front()).dump(2) + "\n";
  nlohmann::ordered_json j;
  j["n"] = r.arms.empty() ? 0 : r.arms.front().rows.size();
  nlohmann::ordered_json arms;
  for (const auto& a : r.arms) arms[a.name] = arm_json(a);
  j["arms"] = arms;
  nlohmann::ordered_json paired = nlohmann::ordered_json::array();
  for (const auto& c : r.paired) {
    nlohmann::ordered_json pc;
    pc["arm"] = c.arm;
    pc["reference"] = c.reference;
    pc["follow_up_weeks"] = c.follow_up / kWeek;
    nlohmann::ordered_json ms;
    for (const auto& d : c.metrics) {
      ms[d.metric] = {{"mean_difference", d.mean}, {"sd", d.sd},     {"ci95_low", d.ci_low},
                      {"ci95_high", d.ci_high},    {"t", d.t},       {"p", d.p},
                      {"better", d.better},        {"same", d.same}, {"worse", d.worse}};
    }
    pc["metrics"] = ms;
    paired.push_back(pc);
  }
  j["paired"] = paired;
  return j.dump(2) + "\n";
}

std::vector<std::string> patients_files(const CohortSpec& c) {
  if (c.arms.size() == 1) return {"patients.csv"};
  std::vector<std::string> out;
  for (const Arm& a : c.arms) out.push_back("patients_" + a.name + ".csv");
  return out;
}

std::string patients_csv(const ArmResult& r) {
  std::string s =
      "patient,site,age_years,sex,fitzpatrick,glogau,cause,scars,collagen_synthesis_factor,"
      "growth_factor_supply_factor,fibroblast_proliferation_factor,melanin_rate_factor,sessions,"
      "depth_reached_mm,gb_quantitative_before,gb_quantitative_after,gb_qualitative_before,"
      "gb_qualitative_after,scar_depth_reduction_pct,papillary_collagen_change_pct,"
      "reticular_collagen_change_pct,dermal_collagen_change_pct,papillary_elastin_change_pct,"
      "reticular_elastin_change_pct,dermal_thickness_change_um,epidermal_thickness_change_pct,"
      "erythema_days,barrier_hours,pih_risk,pih,past_dermis";
  // Each application's dose delivered over the course.
  for (const auto& a : r.applications) s += fmt::format(",{}_delivered", a.agent);
  // Every further outcome time: its own columns, named by the weeks after the last session.
  std::vector<std::size_t> extra;
  if (!r.rows.empty()) {
    const auto& o = r.rows.front().outcome;
    for (std::size_t j = 0; j < o.at.size(); ++j) {
      if (j == o.headline) continue;
      extra.push_back(j);
      const std::string w = fmt::format("{:g}wk", o.at[j].follow_up / kWeek);
      for (const char* col : {"gb_quantitative_after", "gb_qualitative_after",
                              "scar_depth_reduction_pct", "dermal_collagen_change_pct"}) {
        s += fmt::format(",{}_{}", col, w);
      }
    }
  }
  s += "\n";
  const std::vector<std::string> causes = lesions::scar_cause_names();
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& p = r.rows[i].patient;
    const auto& o = r.rows[i].outcome;
    s += fmt::format(
        "{},{},{:.2f},{},{},{},{},{},{:.4f},{:.4f},{:.4f},{:.4f},{},{:.4f},{},{},{},{},{:.3f},{:."
        "3f},"
        "{:.3f},{:.3f},{:.3f},{:.3f},{:.2f},{:.3f},{:.3f},{:.3f},{:.5f},{},{}",
        i, p.spec.site, p.spec.age_years, skin::sex_name(p.spec.sex), p.spec.fitzpatrick,
        p.spec.glogau, causes.at(static_cast<std::size_t>(p.cause)), p.spec.scars.size(),
        p.rates.collagen_synthesis, p.rates.growth_factor_supply, p.rates.fibroblast_proliferation,
        p.rates.melanin_rate, o.sessions, o.depth_reached * 1e3, o.gb_quant_before,
        o.gb_quant_after, o.gb_qual_before, o.gb_qual_after, o.depth_reduction_pct,
        100.0 * o.papillary_collagen_change, 100.0 * o.reticular_collagen_change,
        100.0 * o.dermal_collagen_change, 100.0 * o.papillary_elastin_change,
        100.0 * o.reticular_elastin_change, 1e6 * o.dermal_thickness_change,
        100.0 * o.epidermal_thickness_change, o.erythema_days, o.barrier_hours, o.pih_risk,
        r.rows[i].pih ? 1 : 0, r.rows[i].past_dermis ? 1 : 0);
    for (std::size_t k = 0; k < r.applications.size(); ++k) {
      s += fmt::format(",{:.6g}", k < o.applications.size() ? o.applications[k].delivered : 0.0);
    }
    for (std::size_t j : extra) {
      const TimedOutcome& t = o.at[j];
      s += fmt::format(",{},{},{:.3f},{:.3f}", t.gb_quant_after, t.gb_qual_after,
                       t.depth_reduction_pct, 100.0 * t.dermal_collagen_change);
    }
    s += "\n";
  }
  return s;
}

}  // namespace mnsim::protocol
