// The device kinds (roller, pen, stamp) and the factory that builds them from a scenario table.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "devices/device.hpp"

namespace mnsim::devices {

namespace {

/// A device key from the scenario if given there, else from the catalog entry.
class Resolver {
 public:
  Resolver(const Table& t, const io::SourcedEntry& e) : t_(t), e_(e) {}
  double quantity(const std::string& key, Dim d) const {
    if (t_.has(key)) return t_.quantity(key);
    if (e_.has(key)) return e_.quantity(key, d);
    missing(key);
  }
  long long integer(const std::string& key) const {
    if (t_.has(key)) return t_.integer(key);
    if (e_.has(key)) return e_.integer(key);
    missing(key);
  }
  std::string text(const std::string& key) const {
    if (t_.has(key)) return t_.str(key);
    if (e_.has(key)) return e_.text(key);
    missing(key);
  }
  const Table& table() const { return t_; }
  const io::SourcedEntry& entry() const { return e_; }

 private:
  [[noreturn]] void missing(const std::string& key) const {
    t_.fail(key, fmt::format("not set, and model '{}' does not define it", e_.id()),
            fmt::format("give {} here", t_.key_path(key)));
  }
  const Table& t_;
  const io::SourcedEntry& e_;
};

void common_needle(const Resolver& r, mechanics::NeedleGeometry& g, std::string& material) {
  g.diameter = r.quantity("needle_diameter", Dim::Length);
  g.tip_radius = r.quantity("tip_radius", Dim::Length);
  g.tip_angle = r.quantity("tip_angle", Dim::Angle);
  material = r.text("material");
  if (!(g.tip_radius < 0.5 * g.diameter)) {
    r.table().fail("tip_radius",
                   fmt::format("tip radius {:.3g} um is not below the needle radius {:.3g} um",
                               g.tip_radius * 1e6, 0.5 * g.diameter * 1e6),
                   "a tip radius smaller than half the needle diameter");
  }
}

std::string mm(double m) {
  return fmt::format("{:g} mm", m * 1e3);
}

// ---------------------------------------------------------------------------------------------

class Roller final : public Device {
 public:
  explicit Roller(const Resolver& r) {
    model_ = r.entry().id();
    common_needle(r, needle_, material_);
    diameter_ = r.quantity("drum_diameter", Dim::Length);
    width_ = r.quantity("drum_width", Dim::Length);
    rows_ = static_cast<int>(r.integer("rows"));
    per_row_ = static_cast<int>(r.integer("needles_per_row"));
    row_offset_ = r.quantity("row_offset", Dim::Angle);
    needle_.length = r.quantity("needle_length", Dim::Length);
    if (r.entry().has("needle_lengths")) {
      const auto offered = r.entry().quantities("needle_lengths", Dim::Length);
      const bool ok = std::any_of(offered.begin(), offered.end(),
                                  [&](double l) { return std::abs(l - needle_.length) < 0.5e-6; });
      if (!ok) {
        std::string list;
        for (double l : offered) list += (list.empty() ? "" : ", ") + mm(l);
        r.table().fail(
            "needle_length",
            fmt::format("model '{}' is not made with {} needles", model_, mm(needle_.length)),
            "one of " + list);
      }
    }
    needle_.spacing = std::min(width_ / rows_, kPi * diameter_ / per_row_);
  }
  std::string_view kind() const override { return "roller"; }
  std::size_t needle_count() const override {
    return static_cast<std::size_t>(rows_) * static_cast<std::size_t>(per_row_);
  }
  double swath() const override { return width_; }
  double density_per_pass(const Technique& tq) const override {
    return static_cast<double>(needle_count()) / (kPi * diameter_ * width_) / (1.0 - tq.overlap);
  }
  double needles_loaded(const Technique&) const override {
    const double r = 0.5 * diameter_;
    const double beta = std::acos(r / (r + needle_.length));
    return std::max(static_cast<double>(rows_), static_cast<double>(needle_count()) * beta / kPi);
  }
  std::string describe() const override {
    return fmt::format(
        "roller '{}': {} needles ({} rows x {}), drum {} diameter x {} wide, needles {} long, "
        "{} diameter",
        model_, needle_count(), rows_, per_row_, mm(diameter_), mm(width_), mm(needle_.length),
        mm(needle_.diameter));
  }

 protected:
  void stroke_punctures(const Stroke& s, const Technique&, const mechanics::PenetrationResult& pen,
                        const Rect& area, Punctures& out) const override {
    const double R = 0.5 * diameter_;
    const double circ = 2.0 * kPi * R;
    const double nx = -s.uy, ny = s.ux;
    const double d = pen.depth;
    // The needle enters at angle beta before the vertical and leaves beta after it; the point
    // where it crosses the skin plane moves by +-half_open along the stroke (docs/devices.md).
    const double beta = std::acos(R / (R + d));
    const double half_open = std::sqrt((R + d) * (R + d) - R * R) - R * beta;
    const double az = std::atan2(s.uy, s.ux);
    for (int r = 0; r < rows_; ++r) {
      const double lat = -0.5 * width_ + (r + 0.5) * width_ / rows_;
      // Only the part of this row's track that crosses the area (1 um margin; exact clip later).
      auto [lo, hi] = clip_line(s.x0 + nx * lat, s.y0 + ny * lat, s.ux, s.uy, area, 1e-6);
      lo = std::max(lo, 0.0);
      hi = std::min(hi, s.length);
      if (lo > hi) continue;
      for (int j = 0; j < per_row_; ++j) {
        double alpha = 2.0 * kPi * (static_cast<double>(j) / per_row_ + s.phase) + r * row_offset_;
        alpha = std::fmod(alpha, 2.0 * kPi);
        if (alpha < 0.0) alpha += 2.0 * kPi;
        const double first = R * alpha;
        const double skip = first < lo ? std::ceil((lo - first) / circ) : 0.0;
        for (double m = skip;; m += 1.0) {
          const double sd = first + m * circ;
          if (sd > hi) break;
          Puncture p;
          p.x = s.x0 + s.ux * sd + nx * lat;
          p.y = s.y0 + s.uy * sd + ny * lat;
          p.t = s.t0 + sd / s.speed;
          p.tilt = beta;
          p.azimuth = az;
          p.surface_length = 2.0 * half_open + 2.0 * pen.channel_radius;
          p.needle = static_cast<std::uint32_t>(r * per_row_ + j);
          out.push_back(p);
        }
      }
    }
  }

 private:
  double diameter_ = 0.0, width_ = 0.0, row_offset_ = 0.0;
  int rows_ = 0, per_row_ = 0;
};

// ---------------------------------------------------------------------------------------------

/// A device that presses a flat array of needles at discrete points along a stroke.
class Stamping : public Device {
 protected:
  /// Distance between successive stamps along the stroke, m.
  virtual double step(const Stroke& s, const Technique& tq) const = 0;
  /// Stamps per second.
  virtual double rate() const = 0;
  /// Fraction of a cycle during which the needles are in the skin (drags the channel).
  virtual double contact_fraction(double depth) const = 0;

  void stroke_punctures(const Stroke& s, const Technique& tq,
                        const mechanics::PenetrationResult& pen, const Rect& area,
                        Punctures& out) const override {
    const double st = step(s, tq);
    const double nx = -s.uy, ny = s.ux;
    const double az = std::atan2(s.uy, s.ux);
    const double drag = s.speed * contact_fraction(pen.depth) / rate();
    // Stamps whose footprint can touch the area (exact clip later).
    auto [lo, hi] = clip_line(s.x0, s.y0, s.ux, s.uy, area, reach_ + 1e-6);
    lo = std::max(lo, 0.0);
    hi = std::min(hi, s.length);
    if (lo > hi) return;
    const double first = std::max(0.0, std::ceil(lo / st - s.phase));
    for (double i = first;; i += 1.0) {
      const double k = s.phase + i;
      const double sd = k * st;
      if (sd > hi) break;
      const double t = s.t0 + k / rate();
      for (std::size_t n = 0; n < offsets_.size(); ++n) {
        const double a = sd + offsets_[n].first, b = offsets_[n].second;
        Puncture p;
        p.x = s.x0 + s.ux * a + nx * b;
        p.y = s.y0 + s.uy * a + ny * b;
        p.t = t;
        p.tilt = 0.0;
        p.azimuth = az;
        p.surface_length = 2.0 * pen.channel_radius + drag;
        p.needle = static_cast<std::uint32_t>(n);
        out.push_back(p);
      }
    }
  }

  void set_spacing_from_offsets() {
    double best = 1e300;
    for (std::size_t i = 0; i < offsets_.size(); ++i) {
      for (std::size_t j = i + 1; j < offsets_.size(); ++j) {
        best = std::min(best, std::hypot(offsets_[i].first - offsets_[j].first,
                                         offsets_[i].second - offsets_[j].second));
      }
    }
    needle_.spacing = offsets_.size() > 1 ? best : 10.0 * needle_.diameter;
    reach_ = 0.0;
    for (const auto& [a, b] : offsets_) reach_ = std::max(reach_, std::hypot(a, b));
  }

  std::vector<std::pair<double, double>> offsets_;  // (along, across) the stroke, m
  double reach_ = 0.0;                              // largest needle distance from the centre
};

class Pen final : public Stamping {
 public:
  explicit Pen(const Resolver& r) {
    model_ = r.entry().id();
    common_needle(r, needle_, material_);
    needles_ = static_cast<int>(r.integer("needles"));
    layout_ = r.text("layout");
    cartridge_ = r.quantity("cartridge_diameter", Dim::Length);
    frequency_ = r.quantity("frequency", Dim::Frequency);
    needle_.length = r.quantity("depth", Dim::Length);
    const double lo = r.entry().quantity("depth_min", Dim::Length);
    const double hi = r.entry().quantity("depth_max", Dim::Length);
    if (needle_.length < lo - 0.5e-6 || needle_.length > hi + 0.5e-6) {
      r.table().fail("depth",
                     fmt::format("model '{}' cannot be set to {}", model_, mm(needle_.length)),
                     fmt::format("a depth from {} to {}", mm(lo), mm(hi)));
    }
    profile_ = r.text("stroke_profile");
    if (profile_ != "sinusoidal" && profile_ != "square") {
      r.table().fail("stroke_profile", fmt::format("unknown stroke profile '{}'", profile_),
                     "sinusoidal or square");
    }
    amplitude_ = r.quantity("stroke_amplitude", Dim::Length);
    if (amplitude_ < needle_.length) {
      r.table().fail("stroke_amplitude",
                     fmt::format("needle travel {} is shorter than the depth setting {}",
                                 mm(amplitude_), mm(needle_.length)),
                     "a travel at least the depth");
    }
    const double R = 0.5 * cartridge_;
    if (layout_ == "grid") {
      const int n = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(needles_))));
      const double p = cartridge_ / n;
      for (int k = 0; k < needles_; ++k) {
        offsets_.emplace_back((k % n + 0.5) * p - R, (k / n + 0.5) * p - R);
      }
    } else if (layout_ == "round") {
      // Vogel's sunflower pattern: even cover of a disc by any number of needles.
      const double golden = kPi * (3.0 - std::sqrt(5.0));
      for (int k = 0; k < needles_; ++k) {
        const double rho = R * std::sqrt((k + 0.5) / needles_);
        offsets_.emplace_back(rho * std::cos(k * golden), rho * std::sin(k * golden));
      }
    } else {
      r.table().fail("layout", fmt::format("unknown layout '{}'", layout_), "round or grid");
    }
    set_spacing_from_offsets();
  }
  std::string_view kind() const override { return "pen"; }
  std::size_t needle_count() const override { return static_cast<std::size_t>(needles_); }
  double swath() const override { return cartridge_; }
  double density_per_pass(const Technique& tq) const override {
    return needles_ * frequency_ / (tq.speed * cartridge_ * (1.0 - tq.overlap));
  }
  double needles_loaded(const Technique&) const override { return needles_; }
  std::string describe() const override {
    return fmt::format("pen '{}': {} needles ({} layout, {} face) at {:g} Hz, depth {}", model_,
                       needles_, layout_, mm(cartridge_), frequency_, mm(needle_.length));
  }

 protected:
  double step(const Stroke& s, const Technique&) const override { return s.speed / frequency_; }
  double rate() const override { return frequency_; }
  double contact_fraction(double depth) const override {
    if (profile_ == "square") return 0.5;
    const double x = std::clamp(1.0 - 2.0 * depth / amplitude_, -1.0, 1.0);
    return std::acos(x) / kPi;
  }

 private:
  int needles_ = 0;
  std::string layout_, profile_;
  double cartridge_ = 0.0, frequency_ = 0.0, amplitude_ = 0.0;
};

class Stamp final : public Stamping {
 public:
  explicit Stamp(const Resolver& r) {
    model_ = r.entry().id();
    common_needle(r, needle_, material_);
    rows_ = static_cast<int>(r.integer("rows"));
    cols_ = static_cast<int>(r.integer("columns"));
    pitch_ = r.quantity("pitch", Dim::Length);
    needle_.length = r.quantity("needle_length", Dim::Length);
    press_rate_ = r.quantity("press_rate", Dim::Frequency);
    for (int i = 0; i < rows_; ++i) {
      for (int j = 0; j < cols_; ++j) {
        offsets_.emplace_back((j - 0.5 * (cols_ - 1)) * pitch_, (i - 0.5 * (rows_ - 1)) * pitch_);
      }
    }
    set_spacing_from_offsets();
  }
  std::string_view kind() const override { return "stamp"; }
  std::size_t needle_count() const override {
    return static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_);
  }
  double swath() const override { return rows_ * pitch_; }
  double density_per_pass(const Technique& tq) const override {
    const double f = 1.0 - tq.overlap;
    return 1.0 / (pitch_ * pitch_ * f * f);
  }
  double needles_loaded(const Technique&) const override {
    return static_cast<double>(needle_count());
  }
  double stroke_duration(const Stroke& s, const Technique& tq) const override {
    return s.length / step(s, tq) / press_rate_;
  }
  std::string describe() const override {
    return fmt::format("stamp '{}': {} x {} needles at {} pitch, {} long, {:g} presses/s", model_,
                       rows_, cols_, mm(pitch_), mm(needle_.length), press_rate_);
  }

 protected:
  double step(const Stroke&, const Technique& tq) const override {
    return cols_ * pitch_ * (1.0 - tq.overlap);
  }
  double rate() const override { return press_rate_; }
  double contact_fraction(double) const override { return 0.0; }

 private:
  int rows_ = 0, cols_ = 0;
  double pitch_ = 0.0, press_rate_ = 0.0;
};

}  // namespace

const std::vector<std::string>& device_kinds() {
  static const std::vector<std::string> k = {"roller", "pen", "stamp"};
  return k;
}

std::unique_ptr<Device> make_device(const Table& t, const DeviceCatalog& catalog) {
  const std::string& kind = t.str("kind");
  const std::string model = t.has("model") ? t.str("model") : DeviceCatalog::default_model(kind);
  const io::SourcedEntry* e = catalog.find(model);
  if (!e) {
    const auto ids = catalog.ids();
    const std::string guess = schema::suggest(model, ids);
    std::string list;
    for (const auto& i : ids) list += (list.empty() ? "" : ", ") + i;
    t.fail("model", fmt::format("unknown device model '{}'", model),
           guess.empty() ? "one of " + list : fmt::format("did you mean '{}'?", guess));
  }
  const std::string& model_kind = e->text("kind");
  if (model_kind != kind) {
    t.fail("model", fmt::format("model '{}' is a {}, but kind = \"{}\"", model, model_kind, kind),
           fmt::format("set kind = \"{}\" or choose a {} model", model_kind, kind));
  }
  const Resolver r(t, *e);
  if (kind == "roller") return std::make_unique<Roller>(r);
  if (kind == "pen") return std::make_unique<Pen>(r);
  if (kind == "stamp") return std::make_unique<Stamp>(r);
  t.fail("kind", fmt::format("unknown device kind '{}'", kind), "roller, pen or stamp");
}

}  // namespace mnsim::devices
