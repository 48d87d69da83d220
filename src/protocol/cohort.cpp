#include "protocol/cohort.hpp"
#include "skin/profile.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/version.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/toml_file.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/goodman_baron.hpp"
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

template <std::size_t N>
int categorical(Rng& r, const std::array<double, N>& w) {
  double sum = 0;
  for (double x : w) sum += x;
  double u = r.uniform() * sum;
  for (std::size_t i = 0; i < N; ++i) {
    if (u < w[i]) return static_cast<int>(i);
    u -= w[i];
  }
  for (std::size_t i = N; i-- > 0;) {
    if (w[i] > 0) return static_cast<int>(i);
  }
  return 0;
}

}  // namespace

schema::Key reduced_protocol_schema() {
  using namespace schema;
  return table(
      "protocol", "The roller protocol given to every patient (reduced model).",
      {
          // Keys that mirror scenario keys take their range, unit and choices from them.
          mirror_key("device.needle_length@roller", "needle_length", "1.5 mm",
                     "nominal needle length (depth reached: data/outcomes.toml [penetration])"),
          mirror_key("technique.passes", "passes", "16",
                     "roller passes per session (15.3 punctures/cm^2 each)"),
          mirror_key("course.sessions", "sessions", "3", "number of sessions"),
          mirror_key("course.interval", "interval", "4 weeks", "time between sessions"),
          mirror_key("course.follow_up", "follow_up", "8 weeks",
                     "outcome time after the last session"),
          quantity("time_step", Dim::Time, "h", "6 h",
                   "largest reaction step of the reduced driver (accuracy: docs/cohort.md)", 60.0,
                   48 * kHour),
      });
}

ReducedProtocol read_reduced_protocol(const Table& t) {
  ReducedProtocol p;
  p.needle_length = t.quantity("needle_length");
  // The reduced model fits the catalog roller with this length: a length the roller is not made
  // with is an error at this key, not at the device table the model builds internally.
  try {
    check_roller_length(p.device_model, p.needle_length);
  } catch (const InputError& e) {
    t.fail("needle_length", e.problem(), e.expected());
  }
  p.passes = static_cast<int>(t.integer("passes"));
  p.sessions = static_cast<int>(t.integer("sessions"));
  p.interval = t.quantity("interval");
  p.follow_up = t.quantity("follow_up");
  p.time_step = t.quantity("time_step");
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
                table("fitzpatrick", "Relative weights of the Fitzpatrick types.", fitz),
                table_array("sites", "Treated sites with weights (default: medial cheek).",
                            {mirror_key("patient.site", "site", "", "atlas site").must(),
                             number("weight", "1", "relative weight", 0.0, 1e6)},
                            100),
                table("scars", "Scar inventory: mean count per class.", scars),
            }),
        table("variability", "Between-patient variability: SD of ln(rate multiplier).",
              {
                  number("collagen_synthesis", "0", "collagen and elastin synthesis", 0.0, 2.0),
                  number("growth_factor_supply", "0", "macrophage growth-factor release", 0.0, 2.0),
                  number("fibroblast_proliferation", "0", "fibroblast proliferation", 0.0, 2.0),
                  number("melanin_rate", "0", "melanogenic response (PIH)", 0.0, 2.0),
              }),
        reduced_protocol_schema(),
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
  if (pop.min_baseline_grade > 0 && !(ssum > 0)) {
    p.fail("min_baseline_grade", "needs scars, but every scar count is zero",
           "a positive mean count in [population.scars]");
  }
  const Table& v = root.table("variability");
  c.variability.collagen_synthesis = v.number("collagen_synthesis");
  c.variability.growth_factor_supply = v.number("growth_factor_supply");
  c.variability.fibroblast_proliferation = v.number("fibroblast_proliferation");
  c.variability.melanin_rate = v.number("melanin_rate");
  c.protocol = read_reduced_protocol(root.table("protocol"));
  return c;
}

CohortSpec load_cohort(const std::string& path) {
  return read_cohort(io::load_toml_file(path, cohort_schema(), "a TOML cohort file"));
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

std::vector<outcomes::ScarGeometry> draw_scars(Rng& r, const Population& pop, double skin_depth) {
  const auto& data = lesions::default_lesion_data();
  const std::vector<std::string> classes = lesions::inventory_classes();
  lesions::DrawLimits caps;  // lengths are not capped: the reduced model has no patch
  caps.max_depth = 0.9 * skin_depth;
  std::vector<outcomes::ScarGeometry> out;
  for (std::size_t c = 0; c < classes.size() && c < pop.scar_means.size(); ++c) {
    const long long n = poisson(r, pop.scar_means[c]);
    for (long long i = 0; i < n; ++i) {
      out.push_back(outcomes::scar_geometry(*lesions::draw_lesion(classes[c], r, data, caps)));
    }
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
  const skin::SkinProfile prof = m.atlas->make_profile(s.site, s.age_years, s.sex, s.fitzpatrick);
  const double skin_depth = prof.top_of(skin::Layer::Hypodermis);
  for (int k = 0; k < 1000; ++k) {
    s.scars = draw_scars(r, pop, skin_depth);
    std::vector<outcomes::ScarState> st;
    for (const auto& g : s.scars) st.push_back({g.kind, g.depth, g.width, g.tethered});
    if (outcomes::qualitative_grade(st, m.grading) >= pop.min_baseline_grade) break;
  }
  v.rates = draw_rates(c.variability, c.seed, index);
  return v;
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// Simulates the patients without a recorded outcome in `known` (may be null); `record` (may be
/// empty) is called for each simulated patient, from the worker threads.
CohortResult simulate_cohort(const ReducedModel& m, const CohortSpec& c, int threads,
                             const std::vector<std::optional<PatientRecord>>* known,
                             const std::function<void(const PatientRecord&)>& record) {
  CohortResult res;
  const auto n = static_cast<std::size_t>(c.population.size);
  res.rows.resize(n);
  std::exception_ptr error;
  std::mutex mu;
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
  for (std::size_t i = 0; i < n; ++i) {
    try {
      PatientRow& row = res.rows[i];
      row.patient = draw_patient(m, c, i);
      if (known && (*known)[i]) {
        row.outcome = (*known)[i]->outcome;
        row.pih = (*known)[i]->pih;
        continue;
      }
      row.outcome = m.simulate(row.patient.spec, c.protocol, row.patient.rates);
      // PIH event: its own draw (stream kStreamPih, entity i), independent of the scars drawn.
      Rng pr(c.seed, kStreamPih, i);
      row.pih = pr.uniform() < row.outcome.pih_risk;
      if (record) record({i, row.outcome, row.pih});
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  std::vector<double> qb, qa, lb, la, ery, red, col;
  double imp1 = 0, imp2 = 0, pih = 0, past = 0;
  for (auto& r : res.rows) {
    const auto& o = r.outcome;
    const PatientSpec& ps = r.patient.spec;
    r.past_dermis = skin::past_dermis(
        o.depth_reached, m.atlas->make_profile(ps.site, ps.age_years, ps.sex, ps.fitzpatrick));
    if (r.past_dermis) past += 1;
    qb.push_back(o.gb_quant_before);
    qa.push_back(o.gb_quant_after);
    lb.push_back(o.gb_qual_before);
    la.push_back(o.gb_qual_after);
    ery.push_back(o.erythema_days);
    red.push_back(o.depth_reduction_pct);
    col.push_back(100.0 * o.papillary_collagen_change);
    const int drop = o.gb_qual_before - o.gb_qual_after;
    if (drop >= 1) imp1 += 1;
    if (drop >= 2) imp2 += 1;
    if (r.pih) pih += 1;
  }
  const double dn = std::max<double>(1.0, static_cast<double>(n));
  res.quant_before = summarize(qb);
  res.quant_after = summarize(qa);
  res.qual_before = summarize(lb);
  res.qual_after = summarize(la);
  res.improved_1_grade_fraction = imp1 / dn;
  res.improved_2_grades_fraction = imp2 / dn;
  res.pih_incidence = pih / dn;
  res.erythema_days_mean = summarize(ery).mean;
  res.scar_depth_reduction_pct_mean = summarize(red).mean;
  res.collagen_change_pct_mean = summarize(col).mean;
  res.past_dermis_patients = static_cast<std::size_t>(past);
  res.past_dermis_fraction = past / dn;
  return res;
}

// ---- the per-patient record file -------------------------------------------------------------

constexpr std::string_view kRecMagic = "MNSIMPAT";
constexpr std::uint32_t kRecFormat = 1;
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

std::string encode_record(const PatientRecord& r) {
  io::ByteWriter w;
  const PatientOutcome& o = r.outcome;
  w.u64(r.index);
  for (const double v :
       {o.depth_reached, o.density, o.gain.papillary, o.gain.reticular, o.papillary_collagen_change,
        o.reticular_collagen_change, o.epidermal_thickness_change, o.collagen1_share,
        o.melanin_peak, o.pih_risk, o.erythema_days, o.barrier_hours, o.neutrophil_peak_h,
        o.macrophage_peak_h, o.collagen3_peak_h, o.collagen1_peak_h, o.depth_reduction_pct}) {
    w.f64(v);
  }
  w.u8(o.bled ? 1 : 0);
  for (const int v : {o.gb_quant_before, o.gb_quant_after, o.gb_qual_before, o.gb_qual_after}) {
    w.i64(v);
  }
  w.u64(o.scars.size());
  for (const auto& sc : o.scars) {
    for (const double v : {sc.depth_before, sc.depth_after, sc.volume_before, sc.volume_after,
                           sc.fill, sc.release}) {
      w.f64(v);
    }
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
  for (double* v : {&o.depth_reached, &o.density, &o.gain.papillary, &o.gain.reticular,
                    &o.papillary_collagen_change, &o.reticular_collagen_change,
                    &o.epidermal_thickness_change, &o.collagen1_share, &o.melanin_peak, &o.pih_risk,
                    &o.erythema_days, &o.barrier_hours, &o.neutrophil_peak_h, &o.macrophage_peak_h,
                    &o.collagen3_peak_h, &o.collagen1_peak_h, &o.depth_reduction_pct}) {
    *v = r.f64();
  }
  o.bled = r.u8() != 0;
  for (int* v : {&o.gb_quant_before, &o.gb_quant_after, &o.gb_qual_before, &o.gb_qual_after}) {
    const std::int64_t x = r.i64();
    if (x < -1000 || x > 1000) r.fail(fmt::format("grade {}", x));
    *v = static_cast<int>(x);
  }
  const std::uint64_t scars = r.count(r.left() / 48, "scar count");
  for (std::uint64_t k = 0; k < scars; ++k) {
    outcomes::RemodelResult sc;
    for (double* v : {&sc.depth_before, &sc.depth_after, &sc.volume_before, &sc.volume_after,
                      &sc.fill, &sc.release}) {
      *v = r.f64();
    }
    o.scars.push_back(sc);
  }
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
  w.i64(p.min_baseline_grade);
  const Variability& v = c.variability;
  for (const double x :
       {v.collagen_synthesis, v.growth_factor_supply, v.fibroblast_proliferation, v.melanin_rate}) {
    w.f64(x);
  }
  const ReducedProtocol& pr = c.protocol;
  w.f64(pr.needle_length);
  w.i64(pr.passes);
  w.i64(pr.sessions);
  for (const double x : {pr.interval, pr.follow_up, pr.time_step}) w.f64(x);
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
  return simulate_cohort(m, c, threads, nullptr, {});
}

CohortRun run_cohort(const ReducedModel& m, const CohortSpec& c, const CohortRunOptions& o) {
  io::OutputFolder folder = io::OutputFolder::open(o.out_dir, o.force, "mnsim cohort");
  const fs::path dir = folder.checkpoints();
  const fs::path file = dir / "patients.rec";
  const std::uint64_t key = cohort_checkpoint_key(c);
  const auto n = static_cast<std::uint64_t>(c.population.size);
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
  run.result =
      simulate_cohort(m, c, o.threads, &known, [&](const PatientRecord& r) { log.add(r); });
  log.flush();
  // The results replace the folder's earlier ones together; the record file has served.
  io::write_file_atomic(folder.staging() / "cohort.json", cohort_json(run.result));
  io::write_file_atomic(folder.staging() / "patients.csv", patients_csv(run.result));
  folder.commit({"cohort.json", "patients.csv"}, key);
  return run;
}

std::string cohort_json(const CohortResult& r) {
  nlohmann::ordered_json j;
  j["n"] = r.rows.size();
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
  j["erythema_days_mean"] = r.erythema_days_mean;
  j["scar_depth_reduction_pct_mean"] = r.scar_depth_reduction_pct_mean;
  j["past_dermis_fraction"] = r.past_dermis_fraction;
  return j.dump(2) + "\n";
}

std::string patients_csv(const CohortResult& r) {
  std::string s =
      "patient,site,age_years,sex,fitzpatrick,scars,collagen_synthesis_factor,"
      "growth_factor_supply_factor,fibroblast_proliferation_factor,melanin_rate_factor,"
      "depth_reached_mm,gb_quantitative_before,gb_quantitative_after,gb_qualitative_before,"
      "gb_qualitative_after,scar_depth_reduction_pct,papillary_collagen_change_pct,"
      "epidermal_thickness_change_pct,erythema_days,barrier_hours,pih_risk,pih,past_dermis\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& p = r.rows[i].patient;
    const auto& o = r.rows[i].outcome;
    s += fmt::format(
        "{},{},{:.2f},{},{},{},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{},{},{},{},{:.3f},{:.3f},{:.3f},"
        "{:.3f},{:.3f},{:.5f},{},{}\n",
        i, p.spec.site, p.spec.age_years, skin::sex_name(p.spec.sex), p.spec.fitzpatrick,
        p.spec.scars.size(), p.rates.collagen_synthesis, p.rates.growth_factor_supply,
        p.rates.fibroblast_proliferation, p.rates.melanin_rate, o.depth_reached * 1e3,
        o.gb_quant_before, o.gb_quant_after, o.gb_qual_before, o.gb_qual_after,
        o.depth_reduction_pct, 100.0 * o.papillary_collagen_change,
        100.0 * o.epidermal_thickness_change, o.erythema_days, o.barrier_hours, o.pih_risk,
        r.rows[i].pih ? 1 : 0, r.rows[i].past_dermis ? 1 : 0);
  }
  return s;
}

}  // namespace mnsim::protocol
