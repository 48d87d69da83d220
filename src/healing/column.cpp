#include "healing/column.hpp"
#include "core/constants.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/kernel.hpp"
#include "healing/diffusion.hpp"
#include "healing/radial.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {
std::size_t li(skin::Layer l) {
  return static_cast<std::size_t>(skin::layer_index(l));
}
/// Per field of specs: its layer baselines if it moves in capacity form (capacity_motility:
/// fibroblasts, vessels), else empty. Computed once per run.
using Capacities = std::vector<std::optional<std::array<double, skin::kLayers>>>;
Capacities capacity_form(const std::vector<FieldSpec>& specs, const Baselines& base) {
  Capacities c(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::array<double, skin::kLayers> cap{};
    if (capacity_motility(specs[i], base, cap) > 0.0) c[i] = cap;
  }
  return c;
}

/// One vertical compartment of the driver: a depth band [top, bot) (um) of one layer.
struct Band {
  std::size_t layer = 0;  // skin::layer_index
  double top = 0.0, bot = 0.0;
  double h() const { return bot - top; }
};

/// The bands: every layer of non-zero thickness, cut where the channel ends and where its tip
/// starts to taper (so a layer the needle reaches only partly is not injured as a whole), then
/// split into equal bands no thicker than max_band (um; <= 0: no further split).
std::vector<Band> make_bands(const Params& p, const skin::SkinProfile& prof, double depth,
                             double max_band) {
  std::vector<Band> out;
  for (int i = 0; i < skin::kLayers; ++i) {
    const skin::Layer l = skin::layer_from_index(i);
    const double top = prof.top_of(l) * 1e6, bot = prof.bottom_of(l) * 1e6;
    if (!(bot > top)) continue;
    std::vector<double> cuts = {top, bot};
    if (max_band > 0.0) {
      for (double c : {depth, depth - std::min(p.tip_length, depth)}) {
        if (c > top + 1e-6 && c < bot - 1e-6) cuts.push_back(c);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      const double a = cuts[c], b = cuts[c + 1];
      const int n =
          max_band > 0.0 ? std::max(1, static_cast<int>(std::ceil((b - a) / max_band - 1e-9))) : 1;
      for (int k = 0; k < n; ++k) {
        out.push_back({static_cast<std::size_t>(i), a + (b - a) * k / n,
                       k + 1 == n ? b : a + (b - a) * (k + 1) / n});
      }
    }
  }
  return out;
}

/// Scratch of the vertical exchange (one per run), with each field's factorised matrix and the
/// step it was built for (kept while the step is unchanged: most steps run at max_dt).
struct ExchangeScratch {
  std::vector<double> g, lo, di, up, rhs, many;
  std::vector<TridiagonalFactor> factor;
  std::vector<double> factor_dt;  // NaN: not built
  std::vector<char> moves;        // the field exchanges between some pair of bands
  // Per field: the first field with the same matrix (the same diffusivities, capacity form and,
  // unless in capacity form, decay), whose factorisation it takes (the same arithmetic on the
  // same numbers); itself if none.
  std::vector<std::size_t> same_as;
  void share(const std::vector<FieldSpec>& specs, const Capacities& capacity) {
    same_as.resize(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      same_as[i] = i;
      for (std::size_t j = 0; j < i; ++j) {
        if (specs[j].diffusivity == specs[i].diffusivity && capacity[j] == capacity[i] &&
            (capacity[i].has_value() || specs[j].decay == specs[i].decay)) {
          same_as[i] = j;
          break;
        }
      }
    }
  }
  void resize(std::size_t n, std::size_t fields) {
    g.assign(n, 0.0);
    lo.assign(n, 0.0);
    di.assign(n, 0.0);
    up.assign(n, 0.0);
    rhs.assign(n, 0.0);
    factor.assign(fields, TridiagonalFactor{});
    factor_dt.assign(fields, std::numeric_limits<double>::quiet_NaN());
    moves.assign(fields, 0);
  }
};

/// Band pair b's face conductance for one field (exchange_bands; 0: no exchange across it).
double band_conductance(const FieldSpec& sp, const std::array<double, skin::kLayers>* cap,
                        const Band& x, const Band& y) {
  const double da = sp.diffusivity[x.layer], db = sp.diffusivity[y.layer];
  if (!(da > 0.0) || !(db > 0.0) || !(x.h() > 0.0) || !(y.h() > 0.0)) return 0.0;
  const double cond = 1.0 / (0.5 * x.h() / da + 0.5 * y.h() / db);
  if (cap == nullptr) return cond;
  const double ca = (*cap)[x.layer], cb = (*cap)[y.layer];
  if (!(ca > 0.0) || !(cb > 0.0)) return 0.0;
  return cond * 2.0 * ca * cb / (ca + cb);
}

/// Diffusive exchange between the stacked band compartments of one column over dt (h): for every
/// field that moves, backward Euler on the bands of thickness h (um) with the finite-volume face
/// conductance 1 / (h_a / 2 D_a + h_b / 2 D_b) (none where either band's layer holds the field
/// still). Conserves sum(h u) and keeps u >= 0.
/// Fields with capacity-form motility (`capacity`) exchange toward a uniform ratio to their layer
/// baselines c: the face flux is g c_f (u_a / c_a - u_b / c_b) with c_f = 2 c_a c_b / (c_a + c_b),
/// as in the 3D engine, so the baseline is at rest.
MNSIM_KERNEL void exchange_bands(const std::vector<FieldSpec>& specs, const Capacities& capacity,
                                 const std::vector<Band>& bands,
                                 const std::vector<double*>& band_ptr,
                                 const std::vector<std::size_t>& band_stride, std::size_t na,
                                 double dt, ExchangeScratch& w) {
  const std::size_t n = bands.size();
  if (n < 2) return;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const FieldSpec& sp = specs[i];
    const auto f = static_cast<std::size_t>(sp.slot);
    const std::array<double, skin::kLayers>* cap = capacity[i] ? &*capacity[i] : nullptr;
    // Backward Euler with the factorised matrix, annulus by annulus.
    // (All annuli at once: band b of annulus a at many[b * na + a].)
    auto solve_annuli = [&](const TridiagonalFactor& factor) __attribute__((always_inline)) {
      if (w.many.size() < n * na) w.many.assign(n * na, 0.0);
      double* many = w.many.data();
      for (std::size_t b = 0; b < n; ++b) {
        const double hb = bands[b].h();
        double* row = many + b * na;
        const double* x = band_ptr[b] + f * band_stride[b];
        if (cap != nullptr) {
          const double c = (*cap)[bands[b].layer];
          for (std::size_t a = 0; a < na; ++a) row[a] = c > 0.0 ? hb * x[a] : 0.0;
        } else {
          const double hw = hb > 0.0 ? hb : 1.0;
          for (std::size_t a = 0; a < na; ++a) row[a] = hw * x[a];
        }
      }
      factor.solve_many(many, na);
      for (std::size_t b = 0; b < n; ++b) {
        const double* row = many + b * na;
        double* x = band_ptr[b] + f * band_stride[b];
        if (cap != nullptr) {
          const double c = (*cap)[bands[b].layer];
          if (c > 0.0) {
            for (std::size_t a = 0; a < na; ++a) x[a] = std::max(0.0, row[a] * c);
          }
        } else {
          for (std::size_t a = 0; a < na; ++a) x[a] = std::max(0.0, row[a]);
        }
      }
    };
    TridiagonalFactor& factor = w.factor[i];
    if (w.factor_dt[i] == dt) {
      if (w.moves[i] != 0) solve_annuli(factor);
      continue;
    }
    w.factor_dt[i] = dt;
    if (const std::size_t j = w.same_as[i]; j < i && w.factor_dt[j] == dt) {
      w.moves[i] = w.moves[j];
      factor = w.factor[j];  // built for this dt on the same matrix
      if (w.moves[i] != 0) solve_annuli(factor);
      continue;
    }
    bool any = false;
    for (std::size_t b = 0; b + 1 < n; ++b) {
      w.g[b] = band_conductance(sp, cap, bands[b], bands[b + 1]);
      any = any || w.g[b] > 0.0;
    }
    w.moves[i] = any ? 1 : 0;
    if (!any) continue;
    // Coupled to the decay that react() applies (FieldSpec::decay); cells: the plain step.
    const double dt_eff = cap != nullptr ? dt : coupled_diffusion_time(dt, sp.decay);
    // Unknowns: u / c with capacity h c (capacity form), else u with capacity h.
    for (std::size_t b = 0; b < n; ++b) {
      const double hb = bands[b].h();
      if (cap != nullptr) {
        const double c = (*cap)[bands[b].layer];
        w.di[b] = c > 0.0 ? hb * c : 1.0;
      } else {
        w.di[b] = hb > 0.0 ? hb : 1.0;
      }
      w.lo[b] = w.up[b] = 0.0;
      if (b > 0) {
        w.di[b] += dt_eff * w.g[b - 1];
        w.lo[b] = -dt_eff * w.g[b - 1];
      }
      if (b + 1 < n) {
        w.di[b] += dt_eff * w.g[b];
        w.up[b] = -dt_eff * w.g[b];
      }
    }
    factor.factor(std::span<const double>(w.lo.data(), n), std::span<const double>(w.di.data(), n),
                  std::span<const double>(w.up.data(), n));
    solve_annuli(factor);
  }
}

/// exchange_bands for a group of columns with the same bands' layers (one band per layer) and
/// annuli, whose compartments lie side by side in the layer storage (run_columns lays them out
/// so): band r of every column of the group is one run of `width` values per field, so each
/// field's systems of all the group's columns and annuli are solved together, in place, lane by
/// lane with the lane's own coefficients. Each lane sees exchange_bands's operations in its
/// order (results bit for bit). What does not change between steps (the face conductances, the
/// diagonal's capacities, the scalings in and out) is computed once per run; the factorisations
/// once per step size, for every lane at once, and shared by the fields with the same matrix.
struct ExchangeGroup {
  std::size_t rows = 0, width = 0;  // bands per column; columns x annuli
  std::vector<double*> row;         // per band: field 0 of the group's first lane
  std::vector<std::size_t> stride;  // per band: the layer storage's field stride
  struct Matrix {                   // [r * width + j]: band r, lane j
    std::vector<double> g, dbase;   // face conductance below band r; diagonal's capacity
    bool cap = false;               // capacity form (steps of dt; else coupled to decay)
    double decay = 0.0;
    std::vector<double> mult, diag, upper;  // factorised for dt_built
    double dt_built = std::numeric_limits<double>::quiet_NaN();
  };
  struct Scaling {
    std::vector<double> in, out;  // rhs = in x (lanes with in = 0 do not move); x = max(0, out u)
  };
  std::vector<Matrix> matrix;
  std::vector<Scaling> scaling;
  struct Field {
    std::size_t slot = 0, matrix = 0, scaling = 0;
  };
  std::vector<Field> fields;  // those that move in some column
  std::vector<double> many;

  MNSIM_KERNEL void solve(double dt) {
    const std::size_t n = rows, wd = width;
    many.resize(n * wd);
    double* __restrict u = many.data();
    for (Matrix& m : matrix) {
      if (m.dt_built == dt) continue;
      m.dt_built = dt;
      const double dt_eff = m.cap ? dt : coupled_diffusion_time(dt, m.decay);
      m.mult.resize(n * wd);
      m.diag.resize(n * wd);
      m.upper.resize(n * wd);
      const double* __restrict g = m.g.data();
      const double* __restrict d0 = m.dbase.data();
      double* __restrict mult = m.mult.data();
      double* __restrict diag = m.diag.data();
      double* __restrict up = m.upper.data();
      // exchange_bands's matrix and TridiagonalFactor::factor, lane by lane (written without
      // branches in the lane loops, so that they vectorise).
      for (std::size_t j = 0; j < wd; ++j) {  // the first band
        up[j] = -(dt_eff * g[j]);
        mult[j] = 0.0;
        diag[j] = d0[j] + dt_eff * g[j];
      }
      for (std::size_t r = 1; r < n; ++r) {
        const std::size_t o = r * wd, oq = o - wd;
        // None below the last band: mb = +0, and d0 + ma + 0 is d0 + ma exactly (d0 > 0).
        const double below = r + 1 < n ? dt_eff : 0.0;
#pragma omp simd
        for (std::size_t j = 0; j < wd; ++j) {
          const double ma = dt_eff * g[oq + j], mb = below * g[o + j];
          const double di = d0[o + j] + ma + mb;
          const double mq = -ma / diag[oq + j];
          up[o + j] = -mb;
          mult[o + j] = mq;
          diag[o + j] = di - mq * up[oq + j];
        }
      }
    }
    for (const Field& f : fields) {
      const Matrix& m = matrix[f.matrix];
      const Scaling& sc = scaling[f.scaling];
      const double* __restrict mult = m.mult.data();
      const double* __restrict diag = m.diag.data();
      const double* __restrict up = m.upper.data();
      const double* __restrict in = sc.in.data();
      const double* __restrict out = sc.out.data();
      // TridiagonalFactor::solve_many's elimination, with the scaling in.
      for (std::size_t r = 0; r < n; ++r) {
        const double* __restrict x = row[r] + f.slot * stride[r];
        double* __restrict ur = u + r * wd;
        const double* __restrict in_r = in + r * wd;
        // (exchange_bands sets the lanes with in = 0 to +0.0; 0 x gives them a zero of x's sign,
        // which only those lanes see and which leaves no trace: they are not written back, and
        // where the lane moves elsewhere the band is uncoupled, g = 0 on both of its faces.)
        for (std::size_t j = 0; j < wd; ++j) ur[j] = in_r[j] * x[j];
        if (r == 0) continue;
        const double* __restrict mr = mult + r * wd;
        const double* __restrict uq = u + (r - 1) * wd;
        for (std::size_t j = 0; j < wd; ++j) ur[j] -= mr[j] * uq[j];
      }
      // The back substitution, with the scaling out.
      for (std::size_t r = n; r-- > 0;) {
        double* __restrict x = row[r] + f.slot * stride[r];
        double* __restrict ur = u + r * wd;
        const double* __restrict dr = diag + r * wd;
        const double* __restrict in_r = in + r * wd;
        const double* __restrict out_r = out + r * wd;
        if (r + 1 == n) {
          for (std::size_t j = 0; j < wd; ++j) ur[j] /= dr[j];
        } else {
          const double* __restrict upr = up + r * wd;
          const double* __restrict uq = u + (r + 1) * wd;
          for (std::size_t j = 0; j < wd; ++j) ur[j] = (ur[j] - upr[j] * uq[j]) / dr[j];
        }
        for (std::size_t j = 0; j < wd; ++j) {
          const double v = ur[j] * out_r[j];
          const double y = 0.0 < v ? v : 0.0;  // std::max(0.0, v)
          x[j] = in_r[j] > 0.0 ? y : x[j];
        }
      }
    }
  }
};

}  // namespace

void session_fractions(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr,
                       std::array<double, skin::kLayers>& damage,
                       std::array<double, skin::kLayers>& lumen) {
  damage.fill(0.0);
  lumen.fill(0.0);
  const double rho = pr.density * 1e-8;  // per um^2
  const double dz = 0.5;                 // um
  for (int i = 0; i < skin::kLayers; ++i) {
    const skin::Layer l = skin::layer_from_index(i);
    const double top = prof.top_of(l) * 1e6, bot = prof.bottom_of(l) * 1e6;
    const double thick = bot - top;
    if (thick <= 0.0) continue;
    double dsum = 0.0, lsum = 0.0;
    for (double z = top + 0.5 * dz; z < std::min(bot, pr.depth); z += dz) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      dsum += damage_area(p, r) * dz;
      lsum += kPi * r * r * dz;
    }
    damage[static_cast<std::size_t>(i)] = rho * dsum / thick;
    lumen[static_cast<std::size_t>(i)] = rho * lsum / thick;
  }
}

namespace {
double zone_volume(const Params& p, const ColumnProtocol& pr, double a, double b);
}  // namespace

std::array<double, skin::kLayers> zone_fractions(const Params& p, const skin::SkinProfile& prof,
                                                 const ColumnProtocol& pr) {
  std::array<double, skin::kLayers> out{};
  const double rho = pr.density * 1e-8;  // per um^2
  for (int i = 0; i < skin::kLayers; ++i) {
    const skin::Layer l = skin::layer_from_index(i);
    const double top = prof.top_of(l) * 1e6, bot = prof.bottom_of(l) * 1e6;
    if (!(bot > top)) continue;
    out[static_cast<std::size_t>(i)] = rho * zone_volume(p, pr, top, bot) / (bot - top);
  }
  return out;
}

namespace {
/// Slot of one of the healing model's fields (resolved once per name by the callers' statics).
std::size_t slot_of(std::string_view name) {
  return static_cast<std::size_t>(healing_model().slot(name));
}
}  // namespace

SessionDose session_dose(const ColumnProtocol& pr, std::size_t i) {
  if (i < pr.doses.size()) return pr.doses[i];
  return SessionDose{pr.density,     pr.depth,    pr.radius,      pr.bled,           pr.channel,
                     pr.coag_radius, pr.coag_top, pr.coag_bottom, pr.coag_denatured, pr.closure};
}

ChannelGeometry session_geometry(const Params& p, const skin::SkinProfile& prof,
                                 const ColumnProtocol& pr) {
  ChannelGeometry g =
      channel_geometry(prof, epidermal_channel_radius(p, prof, pr), pr.depth, pr.density * 1e-8);
  g.bled = pr.bled && pr.density > 0.0;
  return g;
}

double age_limited_step(double max_dt, double age) {
  return std::min(max_dt, std::max(kAgeStepFloor, age / kStepsPerAgeEfold));
}

double ColumnRun::value(skin::Layer l, std::string_view field, double t) const {
  return value(l, static_cast<int>(slot_of(field)), t);
}

double ColumnRun::value(skin::Layer l, int slot, double t) const {
  if (samples.empty()) return 0.0;
  const auto fi = static_cast<std::size_t>(slot);
  if (t <= samples.front().t) return samples.front().s[li(l)][fi];
  if (t >= samples.back().t) return samples.back().s[li(l)][fi];
  auto it = std::upper_bound(samples.begin(), samples.end(), t,
                             [](double x, const ColumnSample& s) { return x < s.t; });
  const ColumnSample& b = *it;
  const ColumnSample& a = *(it - 1);
  const double w = b.t > a.t ? (t - a.t) / (b.t - a.t) : 1.0;
  return (1.0 - w) * a.s[li(l)][fi] + w * b.s[li(l)][fi];
}

double ColumnRun::collagen_change(skin::Layer l, double t) const {
  const Baseline& b = base[li(l)];
  const double c0 = b.collagen1 + b.collagen3;
  if (c0 <= 0.0) return 0.0;
  static const int kC1 = static_cast<int>(slot_of("collagen1"));
  static const int kC3 = static_cast<int>(slot_of("collagen3"));
  return (value(l, kC1, t) + value(l, kC3, t)) / c0 - 1.0;
}

double ColumnRun::epidermal_thickness_change(double t) const {
  static const int kH = static_cast<int>(slot_of("epidermal_thickness"));
  return value(skin::Layer::ViableEpidermis, kH, t) - 1.0;
}

double ColumnRun::peak_time(skin::Layer l, std::string_view field, double t0, double t1) const {
  return peak_time(l, static_cast<int>(slot_of(field)), t0, t1);
}

double ColumnRun::peak_time(skin::Layer l, int slot, double t0, double t1) const {
  const State b0 = baseline_state(base[li(l)]);
  const auto fi = static_cast<std::size_t>(slot);
  double best = -1e300, tb = -1.0;
  for (const auto& s : samples) {
    if (s.t < t0 || s.t > t1) continue;
    const double x = s.s[li(l)][fi] - b0[fi];
    if (x > best) {
      best = x;
      tb = s.t;
    }
  }
  return tb;
}

double epidermal_channel_radius(const Params& p, const skin::SkinProfile& prof,
                                const ColumnProtocol& pr) {
  using skin::Layer;
  const double ve_mid =
      0.5e6 * (prof.top_of(Layer::ViableEpidermis) + prof.bottom_of(Layer::ViableEpidermis));
  return std::max(1.0, channel_radius(p, pr.radius, ve_mid, pr.depth));
}

namespace {

/// Per annulus and band, what one session deposits ([annulus * bands + band]); `zone`: the share
/// of it from the thermal coagulation zone (> 0 where the zone reaches). `keep`: the elastin kept
/// (lumen and zone); `lumen_keep`: the matrix the lumen leaves (collagen, scar matrix, denatured
/// collagen); `denature`: the share of the collagen (before the lumen's cut) that the zone
/// denatures, at most lumen_keep.
struct CellInjury {
  std::vector<double> damage, keep, blood, zone, lumen_keep, denature;
};

/// Squared radius (um^2) of the coagulation zone's cross-section at depth z (um), 0 outside it.
double zone_radius2(const ColumnProtocol& pr, double z) {
  const double c = 0.5 * (pr.coag_bottom - pr.coag_top);
  if (!(pr.coag_radius > 0.0) || !(c > 0.0)) return 0.0;
  const double u = (z - 0.5 * (pr.coag_top + pr.coag_bottom)) / c;
  return u * u < 1.0 ? pr.coag_radius * pr.coag_radius * (1.0 - u * u) : 0.0;
}

/// Lumen radius (um) at depth z (um): the channel's above the depth reached, 0 below it.
double lumen_radius(const Params& p, const ColumnProtocol& pr, double z) {
  return z < pr.depth ? channel_radius(p, pr.radius, z, pr.depth) : 0.0;
}

/// Volume (um^3) of one zone between depths a and b (um) outside its channel's lumen (midpoint
/// rule, 0.5 um steps, as session_fractions).
double zone_volume(const Params& p, const ColumnProtocol& pr, double a, double b) {
  const double lo = std::max(a, pr.coag_top), hi = std::min(b, pr.coag_bottom);
  if (!(pr.coag_radius > 0.0) || !(hi > lo)) return 0.0;
  double v = 0.0;
  for (double z = lo + 0.25; z < hi; z += 0.5) {
    const double r = lumen_radius(p, pr, z);
    v += kPi * std::max(0.0, zone_radius2(pr, z) - r * r) * 0.5;
  }
  return v;
}

/// Annulus integral (um^2) of damage_at(p, r, .) over [a, b]: the lumen disc plus the halo's
/// exponential tail, exactly.
double annulus_damage(const Params& p, double r, double a, double b) {
  if (!(r > 0.0)) return 0.0;
  const double lin = std::min(b, r), lout = std::min(a, r);
  double s = kPi * (lin * lin - lout * lout);
  const double w = p.halo_width;
  if (w > 0.0 && b > r) {
    const double lo = std::max(a, r);
    auto F = [&](double x) {
      return -2.0 * kPi * p.halo_damage * w * (x + w) * std::exp(-(x - r) / w);
    };
    s += F(b) - F(lo);
  }
  return s;
}

/// The injury of one session in every compartment. Per band, the mean number of channels
/// covering a point, m (damage-weighted) and m_l (lumen), as session_fractions; the areal means
/// are those of punctures at random positions: damage 1 - e^{-m}, matrix kept
/// e^{-matrix_loss m_l}, blood m_l. Resolved (mesh given): the cell's own channel, annulus-averaged
/// (exactly in r) and averaged over the band's depth, scaled to those means.
CellInjury make_injury(const Params& p, const ColumnProtocol& pr, const std::vector<Band>& bands,
                       const RadialMesh* mesh) {
  const std::size_t nb = bands.size(), na = mesh ? mesh->size() : 1;
  CellInjury c;
  c.damage.assign(na * nb, 0.0);
  c.keep.assign(na * nb, 1.0);
  c.blood.assign(na * nb, 0.0);
  c.zone.assign(na * nb, 0.0);
  c.lumen_keep.assign(na * nb, 1.0);
  c.denature.assign(na * nb, 0.0);
  const double phi = std::clamp(pr.coag_denatured, 0.0, 1.0);
  const double rho = pr.density * 1e-8;  // per um^2
  std::vector<double> d_own(na), l_own(na), d_r(na), l_r(na), d_r0(na), l_r0(na), z_own(na);
  auto fill = [&](double r, std::vector<double>& d, std::vector<double>& l) {
    for (std::size_t i = 0; i < na; ++i) {
      const double a = mesh->edge[i], b = mesh->edge[i + 1];
      d[i] = annulus_damage(p, r, a, b) / mesh->area[i];
      const double ri = std::min(b, r), ro = std::min(a, r);
      l[i] = r > 0.0 ? kPi * (ri * ri - ro * ro) / mesh->area[i] : 0.0;
    }
  };
  if (mesh) fill(pr.radius, d_r0, l_r0);
  for (std::size_t b = 0; b < nb; ++b) {
    const Band& band = bands[b];
    const double h = band.h();
    const double end = std::min(band.bot, pr.depth);
    // The thermal zone's mean count outside the lumen (0 without a zone).
    const double mz = h > 0.0 && rho > 0.0 ? rho * zone_volume(p, pr, band.top, band.bot) / h : 0.0;
    if (!(h > 0.0) || !(end > band.top || mz > 0.0) || !(rho > 0.0)) continue;
    // Mean channel counts (as session_fractions, 0.5 um steps).
    // bsum: the lumen outside the zone (the heat seals the vessels inside it: no blood there).
    double dsum = 0.0, lsum = 0.0, bsum = 0.0;
    for (double z = band.top + 0.25; z < end; z += 0.5) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      dsum += damage_area(p, r) * 0.5;
      lsum += kPi * r * r * 0.5;
      const double a2 = zone_radius2(pr, z);
      bsum += a2 > 0.0 ? kPi * std::max(0.0, r * r - a2) * 0.5 : kPi * r * r * 0.5;
    }
    const double m = rho * dsum / h, ml = rho * lsum / h, mb = rho * bsum / h;
    // The zone kills as the lumen does (healing::apply_puncture); a point in k zones keeps
    // (1 - phi)^k of its collagen native: on average e^{-phi m_z} (Poisson), the matrix the
    // lumen leaves e^{-matrix_loss m_l}; elastin is lost in both.
    const double dmean = 1.0 - std::exp(-(m + mz)),
                 keep_mean = std::exp(-p.matrix_loss * (ml + mz)),
                 lumen_keep_mean = std::exp(-p.matrix_loss * ml),
                 denature_mean = -std::expm1(-phi * mz);
    if (!mesh) {
      c.damage[b] = dmean;
      c.keep[b] = keep_mean;
      c.blood[b] = mb;
      c.zone[b] = mz;
      c.lumen_keep[b] = lumen_keep_mean;
      c.denature[b] = lumen_keep_mean * denature_mean;
      continue;
    }
    std::fill(d_own.begin(), d_own.end(), 0.0);
    std::fill(l_own.begin(), l_own.end(), 0.0);
    std::fill(z_own.begin(), z_own.end(), 0.0);
    // The own zone's ring between the lumen and the zone's edge, annulus by annulus, averaged
    // over the band's depth.
    if (mz > 0.0) {
      const double lo = std::max(band.top, pr.coag_top), hi = std::min(band.bot, pr.coag_bottom);
      const double dzz = std::min(1.0, 0.25 * (hi - lo));
      for (double z = lo + 0.5 * dzz; z < hi; z += dzz) {
        const double a2 = zone_radius2(pr, z), r = lumen_radius(p, pr, z);
        if (!(a2 > r * r)) continue;
        const double a = std::sqrt(a2);
        for (std::size_t i = 0; i < na; ++i) {
          const double e0 = mesh->edge[i], e1 = mesh->edge[i + 1];
          auto disc = [&](double x) {
            const double hi_ = std::min(e1, x), lo_ = std::min(e0, x);
            return hi_ * hi_ - lo_ * lo_;
          };
          z_own[i] += kPi * (disc(a) - disc(r)) / mesh->area[i] * dzz / h;
        }
      }
    }
    const double dz = std::min(1.0, 0.25 * (end - band.top));
    for (double z = band.top + 0.5 * dz; end > band.top && z < end; z += dz) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      const bool same = r == pr.radius;
      if (!same) fill(r, d_r, l_r);
      const auto& dd = same ? d_r0 : d_r;
      const auto& ll = same ? l_r0 : l_r;
      for (std::size_t i = 0; i < na; ++i) {
        d_own[i] += dd[i] * dz / h;
        l_own[i] += ll[i] * dz / h;
      }
    }
    if (mz > 0.0) {
      // Channel and zone together (the zone's ring lies outside the lumen).
      for (std::size_t i = 0; i < na; ++i) {
        d_r[i] = d_own[i] + z_own[i];
        l_r[i] = l_own[i] + z_own[i];
      }
    }
    const std::vector<double>& dd = mz > 0.0 ? d_r : d_own;
    const std::vector<double>& mm = mz > 0.0 ? l_r : l_own;
    const double md = mesh->mean(dd.data()), mlum = mesh->mean(l_own.data());
    const double mmat = mesh->mean(mm.data());
    const double sd = md > 0.0 ? dmean / md : 0.0;
    const double sm = mmat > 0.0 ? (1.0 - keep_mean) / (p.matrix_loss * mmat) : 0.0;
    const double sb = mlum > 0.0 ? mb / mlum : 0.0;
    const double sl = mlum > 0.0 ? (1.0 - lumen_keep_mean) / (p.matrix_loss * mlum) : 0.0;
    const double mzo = mesh->mean(z_own.data());
    const double sz = mzo > 0.0 && phi > 0.0 ? denature_mean / (phi * mzo) : 0.0;
    for (std::size_t i = 0; i < na; ++i) {
      c.damage[i * nb + b] = std::min(1.0, dd[i] * sd);
      c.keep[i * nb + b] = std::max(0.0, 1.0 - p.matrix_loss * mm[i] * sm);
      c.blood[i * nb + b] = l_own[i] * sb;
      c.zone[i * nb + b] = z_own[i];
      c.lumen_keep[i * nb + b] = std::max(0.0, 1.0 - p.matrix_loss * l_own[i] * sl);
      // The own zone's ring lies outside the own lumen: disjoint shares of the annulus.
      c.denature[i * nb + b] = std::min(c.lumen_keep[i * nb + b], phi * z_own[i] * sz);
    }
  }
  return c;
}

}  // namespace

namespace {

void check_protocol(const ColumnProtocol& pr, bool& any_density) {
  const bool doses_ok = pr.doses.empty() || pr.doses.size() == pr.session_times.size();
  bool dose_values_ok = true, one_depth = true;
  any_density = false;
  for (std::size_t i = 0; i < pr.session_times.size(); ++i) {
    const SessionDose d = session_dose(pr, i);
    dose_values_ok = dose_values_ok && d.density >= 0.0 && d.depth > 0.0 && d.radius > 0.0;
    one_depth = one_depth && d.depth == session_dose(pr, 0).depth;
    any_density = any_density || d.density > 0.0;
  }
  if (pr.session_times.empty() || !(pr.end_time > 0.0) || !doses_ok || !dose_values_ok ||
      !(pr.max_dt > 0.0) || pr.annuli < 0 || pr.annuli > 256 || !(pr.band >= 0.0) ||
      (pr.band > 0.0 && !one_depth)) {
    throw std::invalid_argument(
        "run_column: need sessions, end_time, a dose per session (depth, radius > 0), "
        "0 <= annuli <= 256, band >= 0 (one depth for every session when band > 0)");
  }
  if (!std::is_sorted(pr.session_times.begin(), pr.session_times.end())) {
    throw std::invalid_argument("run_column: session times must be increasing");
  }
  if (!std::is_sorted(pr.additions.begin(), pr.additions.end(),
                      [](const ColumnAddition& a, const ColumnAddition& b) { return a.t < b.t; })) {
    throw std::invalid_argument("run_column: additions must be in time order");
  }
}

/// Per field and layer: the factorised radial diffusion step and the time it was built for.
using PlainSteps =
    std::vector<std::array<std::optional<std::pair<double, RadialDiffusionStep>>, skin::kLayers>>;

/// One column of the driver: its compartments, its course of injuries and its samples. The time
/// loop is run_columns's, which steps columns on the same course together (they are independent:
/// each gets what it would get alone).
struct Column {
  const Params& p;
  const skin::SkinProfile& prof;
  const ColumnProtocol& pr;
  ColumnRun run;
  // The session being run: the protocol with that session's dose (the first session's until the
  // first session starts).
  ColumnProtocol cur;
  // Per layer, the current session's areal injury (ColumnRun keeps the first session's).
  std::array<double, skin::kLayers> damage_fraction{};
  // Epidermal channel radius: at the middle of the viable epidermis.
  const double heal_window = kChannelHealWindow;
  // Channels per um^2. Each heals as an isolated channel: bounding its domain by the session's
  // unit cell (heal_channel's cell_radius) closes dense lattices sooner, which moved the reduced
  // model 11% from the 3D engine on example 04 (docs/model.md section 6), so it is not used.
  // Healing of each distinct epidermal channel radius the course makes (given, or computed once).
  std::map<double, ChannelHealing> healed;
  double channels_um2 = 0.0;
  const ChannelHealing* channel = nullptr;
  // Per session: its channel healing and channel density (session summaries).
  std::vector<const ChannelHealing*> session_channel;
  std::vector<double> session_rho;
  std::vector<double> session_flare;  // per session started: its flare's cover (flare_cover)
  // The channels' closure (healing/channel_closure.hpp), per distinct geometry, the current
  // session's and each session's: barrier, closure and excess water loss.
  std::map<std::array<double, 4>, ChannelHealing> closed;
  const ChannelHealing* closure = nullptr;
  std::vector<const ChannelHealing*> session_closure;
  // Compartments: depth bands (one per layer, or resolved in depth) x annuli of the unit cell
  // (one, well mixed, or the mesh around one channel of the session's lattice, cell radius
  // 1 / sqrt(pi rho)).
  std::vector<Band> bands;
  std::size_t nb = 0, na = 1;
  bool resolved = false;
  RadialMesh mesh;
  CellInjury injury;
  std::vector<State> cells;  // the start values [annulus * nb + band], until laid out below
  std::vector<std::size_t> state_layer;
  // The compartments' values, field by field, in run_columns's storage (one array per layer for
  // the batch): the annuli of band b are contiguous, field f of band b at field(b, f)[a].
  std::vector<double*> band_ptr;
  std::vector<std::size_t> band_stride;
  std::array<std::size_t, skin::kLayers> layer_count{};  // compartments per layer
  double* field(std::size_t b, std::size_t f) const { return band_ptr[b] + f * band_stride[b]; }
  const std::size_t ve = li(skin::Layer::ViableEpidermis), sc = li(skin::Layer::StratumCorneum),
                    pd = li(skin::Layer::PapillaryDermis);
  // The healing model's fields, by slot (resolved here once).
  const Model& model = healing_model();
  const std::size_t nf = model.size();
  std::size_t s_damage = 0, s_platelets = 0, s_clot = 0, s_keratinocytes = 0, s_chemical = 0;
  std::size_t s_denatured = 0;
  std::array<std::size_t, 5> cell_fields{};
  std::array<std::size_t, 4> matrix_fields{};  // collagen I, III, elastin, scar matrix
  std::vector<FieldSpec> specs;
  Capacities capacity;
  std::array<double, skin::kLayers> layer_h{};
  std::array<double, skin::kLayers> thickness_um{};  // the layers' thicknesses (erythema_seen)
  double total_area = 1.0;
  PlainSteps plain_steps;
  ExchangeScratch scratch;
  // Areal mean of every field of every band.
  std::vector<State> band_mean;
  std::array<State, skin::kLayers> base_state{};  // baseline_state of each layer

  Column(const Params& p_, const skin::SkinProfile& prof_, const ColumnProtocol& pr_)
      : p(p_), prof(prof_), pr(pr_), cur(pr_) {
    bool any_density = false;
    check_protocol(pr, any_density);
    run.base = baselines_from_profile(prof);
    for (std::size_t k = 0; k < skin::kLayers; ++k) base_state[k] = baseline_state(run.base[k]);
    take_dose(session_dose(pr, 0));
    {
      const auto [m_damage, m_lumen] = set_fractions();
      for (std::size_t k = 0; k < skin::kLayers; ++k) {
        run.damage_fraction[k] = damage_fraction[k];
        run.matrix_keep[k] = std::exp(-p.matrix_loss * m_lumen[k]);
        run.lumen_fraction[k] = m_lumen[k];
      }
    }
    channels_um2 = cur.density * 1e-8;
    channel = channel_of(cur);
    closure = closure_of(cur);
    run.channel = *channel;
    bands = make_bands(p, prof, cur.depth, pr.band);
    nb = bands.size();
    resolved = pr.annuli > 1 && any_density;
    // The unit cell of the lattice of the first session that punctures.
    if (resolved) {
      for (std::size_t i = 0; i < pr.session_times.size(); ++i) {
        const SessionDose d = session_dose(pr, i);
        if (!(d.density > 0.0)) continue;
        ColumnProtocol c = pr;
        c.density = d.density;
        c.radius = d.radius;
        mesh = make_mesh(c);
        break;
      }
    }
    injury = make_injury(p, cur, bands, resolved ? &mesh : nullptr);
    na = resolved ? mesh.size() : 1;
    run.annulus_area = resolved ? mesh.area : std::vector<double>{1.0};
    run.annulus_mid = resolved ? mesh.mid : std::vector<double>{0.0};
    for (const Band& b : bands) {
      run.band_layer.push_back(b.layer);
      run.band_top.push_back(b.top);
      run.band_bottom.push_back(b.bot);
    }
    cells.resize(na * nb);
    state_layer.resize(na * nb);
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t b = 0; b < nb; ++b) state_layer[a * nb + b] = bands[b].layer;
    }
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t b = 0; b < nb; ++b)
        cells[a * nb + b] = baseline_state(run.base[bands[b].layer]);
    }
    auto slot = [&](const char* name) { return static_cast<std::size_t>(model.slot(name)); };
    s_damage = slot("damage");
    s_platelets = slot("platelets");
    s_clot = slot("clot");
    s_keratinocytes = slot("keratinocytes");
    s_chemical = slot("mitosis_chemical");
    cell_fields = {slot("fibroblasts"), slot("neutrophils"), slot("macrophages"), slot("vascular"),
                   s_keratinocytes};
    matrix_fields = {slot("collagen1"), slot("collagen3"), slot("elastin"), slot("scar_matrix")};
    s_denatured = slot("denatured_collagen");
    // An atrophic scar's deficit, held by its scar matrix and maintained by its fibroblasts of
    // the scar phenotype (as Engine::seed_lesions).
    const std::size_t s_phenotype = slot("scar_fibroblasts");
    for (std::size_t at = 0; at < cells.size(); ++at) {
      const double d = std::clamp(pr.scar_deficit[state_layer[at]], 0.0, 1.0);
      if (!(d > 0.0)) continue;
      for (std::size_t f : matrix_fields) cells[at][f] *= 1.0 - d;
      cells[at][matrix_fields[3]] = d;
      cells[at][s_phenotype] = p.scar_phenotype_share;
    }
    specs = field_specs(model, p);
    capacity = capacity_form(specs, run.base);
    for (const Band& b : bands) layer_h[b.layer] += b.h();
    for (std::size_t k = 0; k < skin::kLayers; ++k) thickness_um[k] = prof.thickness[k] * 1e6;
    total_area = resolved ? mesh.total_area() : 1.0;
    plain_steps.resize(nf);
    scratch.resize(nb, specs.size());
    scratch.share(specs, capacity);
    band_mean.resize(nb);
  }
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  void take_dose(const SessionDose& d) {
    cur.density = d.density;
    cur.depth = d.depth;
    cur.radius = d.radius;
    cur.bled = d.bled;
    cur.channel = d.channel;
    cur.closure = d.closure;
    cur.coag_radius = d.coag_radius;
    cur.coag_top = d.coag_top;
    cur.coag_bottom = d.coag_bottom;
    cur.coag_denatured = d.coag_denatured;
  }
  std::pair<std::array<double, skin::kLayers>, std::array<double, skin::kLayers>> set_fractions() {
    std::array<double, skin::kLayers> m_damage{}, m_lumen{};
    session_fractions(p, prof, cur, m_damage, m_lumen);
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      damage_fraction[k] = 1.0 - std::exp(-m_damage[k]);
    }
    return std::make_pair(m_damage, m_lumen);
  }
  const ChannelHealing* channel_of(const ColumnProtocol& c) {
    if (c.channel) return c.channel;
    const double r = epidermal_channel_radius(p, prof, c);
    auto it = healed.find(r);
    if (it == healed.end()) it = healed.emplace(r, heal_channel(p, r, heal_window)).first;
    return &it->second;
  }
  const ChannelHealing* closure_of(const ColumnProtocol& c) {
    if (c.closure) return c.closure;
    const ChannelGeometry g = session_geometry(p, prof, c);
    const std::array<double, 4> key{g.radius_um, g.density, g.bled ? 1.0 : 0.0, g.lumen_um};
    auto it = closed.find(key);
    if (it == closed.end()) {
      it = closed.emplace(key, close_channels(p, ClosureParams::defaults(), g, heal_window)).first;
    }
    return &it->second;
  }
  RadialMesh make_mesh(const ColumnProtocol& c) const {
    return radial_mesh(c.radius, 1.0 / std::sqrt(kPi * c.density * 1e-8), pr.annuli);
  }

  // Areal mean of every field of every band (accumulated in a local array, which the compiler
  // keeps in vector registers: the same operations in the same order per field).
  MNSIM_KERNEL void band_means() {
    const double* area = mesh.area.data();
    for (std::size_t b = 0; b < nb; ++b) {
      State& s = band_mean[b];  // slots past nf stay 0, as every compartment's
      if (na == 1) {
        for (std::size_t f = 0; f < nf; ++f) s[f] = field(b, f)[0];
      } else {
        const double ta = total_area;
        for (std::size_t f = 0; f < nf; ++f) {
          const double* x = field(b, f);
          double acc = 0.0;
          for (std::size_t a = 0; a < na; ++a) acc += area[a] * x[a];
          s[f] = acc / ta;
        }
      }
    }
  }
  // Then the thickness-weighted mean of each layer (layers without bands: their baseline), into
  // m: written in place (a sample's 1.3 kB are not copied through temporaries).
  MNSIM_KERNEL void means_into(std::array<State, skin::kLayers>& m) {
    band_means();
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      if (layer_h[k] > 0.0) {
        m[k].fill(0.0);
      } else {
        m[k] = base_state[k];
      }
    }
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t k = bands[b].layer;
      const double w = bands[b].h() / layer_h[k];
      double* __restrict mk = m[k].data();
      const double* __restrict bm = band_mean[b].data();
      if (w == 1.0) {
        for (std::size_t f = 0; f < nf; ++f) mk[f] += bm[f];
      } else {
        for (std::size_t f = 0; f < nf; ++f) mk[f] += w * bm[f];
      }
    }
  }

  void sample(double t, double last_session) {
    ColumnSample& s = run.samples.emplace_back();
    s.t = t;
    means_into(s.s);
    // The neurogenic flare of every session so far (halos of sessions weeks apart never meet
    // in time, but nothing here assumes it): the union of their vasodilations.
    double clear = 1.0;
    for (std::size_t q = 0; q < session_flare.size(); ++q) {
      clear *= 1.0 - flare_at(p, session_flare[q], t - pr.session_times[q]);
    }
    s.erythema = erythema_seen(p, run.base, s.s, thickness_um, 1.0 - clear);
    const double since = t - last_session;
    s.tewl_excess =
        since >= 0.0 && since <= heal_window
            ? tewl_excess_ratio(p, channels_um2, closure->radius, closure->open_at(since), since)
            : 0.0;
  }

  /// Session `next` starts.
  void start_session(std::size_t next) {
    // A new session's channels land at positions unrelated to the last session's: the cell
    // starts from the bands' areal means (nothing to do when well mixed), on the unit cell of
    // this session's lattice when its needles differ from the last session's.
    if (na > 1 && next > 0) band_means();
    const SessionDose dose = session_dose(pr, next);
    if (next > 0 && !dose.same_wound(session_dose(pr, next - 1))) {
      take_dose(dose);
      set_fractions();
      channel = channel_of(cur);
      closure = closure_of(cur);
      channels_um2 = cur.density * 1e-8;
      if (resolved && cur.density > 0.0) {
        mesh = make_mesh(cur);
        total_area = mesh.total_area();
        for (auto& f : plain_steps) f = {};  // built for the old mesh
      }
      injury = make_injury(p, cur, bands, resolved ? &mesh : nullptr);
    }
    if (na > 1 && next > 0) {
      for (std::size_t a = 0; a < na; ++a) {
        for (std::size_t b = 0; b < nb; ++b) {
          for (std::size_t f = 0; f < nf; ++f) field(b, f)[a] = band_mean[b][f];
        }
      }
    }
    session_channel.push_back(channel);
    session_closure.push_back(closure);
    session_rho.push_back(channels_um2);
    {
      // The channels' flare: each crosses the share of the papillary dermis (its nerve plexus)
      // down to the depth reached.
      const double top = prof.top_of(skin::Layer::PapillaryDermis) * 1e6;
      const double bot = prof.bottom_of(skin::Layer::PapillaryDermis) * 1e6;
      const double crossing =
          bot > top ? std::clamp((cur.depth - top) / (bot - top), 0.0, 1.0) : 0.0;
      session_flare.push_back(flare_cover(p, channels_um2, crossing));
    }
    // Injury of one session, compartment by compartment.
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t k = bands[b].layer, at = a * nb + b;
        auto s = [&](std::size_t f) -> double& { return field(b, f)[a]; };
        const double d = injury.damage[at], lu = injury.blood[at];
        if (!(damage_fraction[k] > 0.0 || injury.zone[at] > 0.0) || !(cur.density > 0.0)) {
          continue;
        }
        s(s_damage) = 1.0 - (1.0 - s(s_damage)) * (1.0 - d);
        for (std::size_t f : cell_fields) s(f) *= 1.0 - d;
        // The lumen cuts the matrix and the zone denatures a share of the collagen (moved to the
        // denatured pool), releasing as much of the scar matrix's hold.
        const double lk = injury.lumen_keep[at], den = injury.denature[at];
        double moved = 0.0;
        for (std::size_t f : {matrix_fields[0], matrix_fields[1]}) {
          moved += s(f) * den;
          s(f) = std::max(0.0, s(f) * lk - s(f) * den);
        }
        s(matrix_fields[2]) *= injury.keep[at];
        s(matrix_fields[3]) *= std::max(0.0, lk - den);
        s(s_denatured) = s(s_denatured) * lk + moved;
        if (cur.bled && k != sc) {
          s(s_platelets) = std::min(1.0, s(s_platelets) + p.blood_fill * lu);
          s(s_clot) = std::min(1.0, s(s_clot) + p.blood_fill * lu);
        }
      }
    }
    SessionSummary ss;
    ss.start = pr.session_times[next];
    run.sessions.push_back(ss);
  }

  /// Addition `add` (after the session at its time): each layer's platelets into its
  /// compartments in proportion to the lumen each holds (uniformly without a lumen).
  void add_platelets(const ColumnAddition& add) {
    const double* area = mesh.area.data();
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      const double x = add.platelets[k];
      if (!(x > 0.0) || !(layer_h[k] > 0.0)) continue;
      double w = 0.0;  // the layer's mean lumen (area and thickness weighted)
      for (std::size_t a = 0; a < na; ++a) {
        for (std::size_t b = 0; b < nb; ++b) {
          if (bands[b].layer != k) continue;
          w += (na == 1 ? 1.0 : area[a] / total_area) * bands[b].h() / layer_h[k] *
               injury.blood[a * nb + b];
        }
      }
      for (std::size_t a = 0; a < na; ++a) {
        for (std::size_t b = 0; b < nb; ++b) {
          if (bands[b].layer != k) continue;
          const double share = w > 0.0 ? injury.blood[a * nb + b] / w : 1.0;
          field(b, s_platelets)[a] += x * share;
        }
      }
    }
  }

  /// Viable epidermis after the reactions: cell density from the per-channel model; KGF from the
  /// papillary dermis. `since`: h from the last session to the end of the step.
  void set_epidermis(double since) {
    const double open = since <= heal_window ? channel->damage_at(since) : 0.0;
    const double phi_ve = damage_fraction[ve];
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t b = 0; b < nb; ++b) {
        if (bands[b].layer != ve) continue;
        field(b, s_keratinocytes)[a] = 1.0 - phi_ve * open;
        field(b, s_chemical)[a] = 1.0;
        field(b, s_damage)[a] = phi_ve * open;
      }
    }
  }

  /// The field moves laterally in band b (its layer holds it, and the viable epidermis's cells
  /// and chemical are the per-channel model's).
  bool moves(const FieldSpec& sp, std::size_t b) const {
    const std::size_t k = bands[b].layer;
    const auto f = static_cast<std::size_t>(sp.slot);
    return sp.diffusivity[k] > 0.0 && !(k == ve && (f == s_keratinocytes || f == s_chemical));
  }

  ColumnRun finish() {
    run.final_cell.assign(na, {});
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t k = 0; k < skin::kLayers; ++k) {
        if (!(layer_h[k] > 0.0)) run.final_cell[a][k] = baseline_state(run.base[k]);
      }
      for (std::size_t b = 0; b < nb; ++b) {
        const double w = bands[b].h() / layer_h[bands[b].layer];
        for (std::size_t f = 0; f < nf; ++f) {
          run.final_cell[a][bands[b].layer][f] += w * field(b, f)[a];
        }
      }
    }
    // Session summaries.
    for (std::size_t q = 0; q < run.sessions.size(); ++q) {
      SessionSummary& ss = run.sessions[q];
      const double t0 = ss.start;
      const double t1 = q + 1 < run.sessions.size() ? run.sessions[q + 1].start : pr.end_time;
      ss.barrier_time = barrier_recovery_time(p, *session_closure[q], session_rho[q]);
      ss.closure_time = session_rho[q] > 0.0 ? session_closure[q]->closure_time : -1.0;
      if (!pr.sample_at.empty()) continue;  // not every sample kept: not computed
      for (const auto& s : run.samples) {
        if (s.t < t0 || s.t > t1) continue;
        if (s.erythema >= p.erythema_visible) ss.erythema_time = s.t - t0;
      }
      ss.neutrophil_peak = run.peak_time(skin::Layer::PapillaryDermis, "neutrophils", t0, t1) - t0;
      ss.macrophage_peak = run.peak_time(skin::Layer::PapillaryDermis, "macrophages", t0, t1) - t0;
    }
    return std::move(run);
  }
};

/// Scratch of the lateral transport of a batch of columns.
struct LateralScratch {
  std::vector<double> u, attr;
  // What moves in the batch `key`, built on its first step (the compartments' storage and the
  // bands do not change during a run): per field, in the order of the passes, its lanes (a
  // band of a column: pointers to its annuli's values of the field and of the attractant) and,
  // for plain diffusion, the groups of lanes of one diffusivity (contiguous, in the order of their
  // first lane).
  struct Group {
    std::size_t layer = 0;  // of the group's first lane: the key of the field's factorisation
    double D = 0.0;
    std::size_t begin = 0, end = 0;
  };
  struct FieldPlan {
    const FieldSpec* spec = nullptr;
    bool taxis = false, cell = false;
    std::vector<double*> x;        // per lane: the field's values on the annuli
    std::vector<const double*> y;  // per lane: the attractant's (taxis)
    std::vector<double> D;         // per lane (taxis)
    std::vector<Group> groups;     // plain diffusion
  };
  std::vector<Column*> key;
  std::vector<FieldPlan> plan;
};

/// The lateral plan (LateralScratch) of a batch of columns.
void plan_lateral(std::span<Column* const> cols, LateralScratch& w) {
  w.key.assign(cols.begin(), cols.end());
  w.plan.clear();
  const Column& c0 = *cols.front();
  std::vector<std::pair<Column*, std::size_t>> lanes;  // (column, band)
  std::vector<char> done;
  for (int pass = 0; pass < 2; ++pass) {
    for (const FieldSpec& sp : c0.specs) {
      const bool taxis = sp.chemoattractant >= 0 && sp.chemotaxis != 0.0;
      const bool cell = taxis || c0.capacity[static_cast<std::size_t>(sp.slot)].has_value();
      if ((pass == 0) == cell) continue;
      const auto f = static_cast<std::size_t>(sp.slot);
      LateralScratch::FieldPlan& fp = w.plan.emplace_back();
      fp.spec = &sp;
      fp.taxis = taxis;
      fp.cell = cell;
      lanes.clear();
      for (Column* c : cols) {
        for (std::size_t b = 0; b < c->nb; ++b) {
          if (c->moves(sp, b)) lanes.emplace_back(c, b);
        }
      }
      if (taxis) {
        const auto ca = static_cast<std::size_t>(sp.chemoattractant);
        for (const auto& [c, b] : lanes) {
          fp.x.push_back(c->field(b, f));
          fp.y.push_back(c->field(b, ca));
          fp.D.push_back(sp.diffusivity[c->bands[b].layer]);
        }
        continue;
      }
      done.assign(lanes.size(), 0);
      for (std::size_t j0 = 0; j0 < lanes.size(); ++j0) {
        if (done[j0] != 0) continue;
        LateralScratch::Group g;
        g.layer = lanes[j0].first->bands[lanes[j0].second].layer;
        g.D = sp.diffusivity[g.layer];
        g.begin = fp.x.size();
        for (std::size_t j = j0; j < lanes.size(); ++j) {
          const auto [c, b] = lanes[j];
          if (done[j] == 0 && sp.diffusivity[c->bands[b].layer] == g.D) {
            done[j] = 1;
            fp.x.push_back(c->field(b, f));
          }
        }
        g.end = fp.x.size();
        fp.groups.push_back(g);
      }
    }
  }
}

/// Lateral transport in the unit cell over dt, band by band, of columns on the same mesh with the
/// same baselines (one column, or a patient's): the mediators' diffusion first, then the cells'
/// motility and chemotaxis up the transported attractants (as the 3D engine; cells in capacity
/// form move by plain diffusion inside a layer). The bands of every column that diffuse alike are
/// solved together (each as alone: identical results).
MNSIM_KERNEL void lateral(std::span<Column* const> cols, double step, LateralScratch& w) {
  Column& c0 = *cols.front();
  const std::size_t na = c0.na;
  if (!std::equal(cols.begin(), cols.end(), w.key.begin(), w.key.end())) plan_lateral(cols, w);
  for (const LateralScratch::FieldPlan& fp : w.plan) {
    const FieldSpec& sp = *fp.spec;
    if (fp.taxis) {
      // Every band up its own attractant (annulus a of lane j at u[a * m + j]).
      const std::size_t m = fp.x.size();
      if (m == 0) continue;
      w.u.resize(na * m);
      w.attr.resize(na * m);
      for (std::size_t j = 0; j < m; ++j) {
        const double* x = fp.x[j];
        const double* y = fp.y[j];
        for (std::size_t a = 0; a < na; ++a) {
          w.u[a * m + j] = x[a];
          w.attr[a * m + j] = y[a];
        }
      }
      radial_transport_implicit_many(c0.mesh, w.u.data(), m, fp.D.data(), step, w.attr.data(),
                                     sp.chemotaxis);
      for (std::size_t j = 0; j < m; ++j) {
        double* x = fp.x[j];
        for (std::size_t a = 0; a < na; ++a) x[a] = w.u[a * m + j];
      }
      continue;
    }
    // Plain diffusion: one factorised matrix per diffusivity for all its bands (every layer's,
    // as a rule), kept while the step is unchanged (most steps run at max_dt); the bands of
    // one diffusivity are solved together (annulus a of the j-th band at u[a * m + j]).
    const double tau = fp.cell ? step : coupled_diffusion_time(step, sp.decay);
    auto& plain = c0.plain_steps[static_cast<std::size_t>(sp.slot)];
    for (const LateralScratch::Group& g : fp.groups) {
      const std::size_t k = g.layer;
      if (!plain[k]) {
        plain[k].emplace(tau, RadialDiffusionStep(c0.mesh, g.D, tau));
      } else if (plain[k]->first != tau) {
        plain[k]->first = tau;
        plain[k]->second.reset(c0.mesh, g.D, tau);  // the storage reused
      }
      const std::size_t m = g.end - g.begin;
      w.u.resize(na * m);
      for (std::size_t q = 0; q < m; ++q) {
        const double* x = fp.x[g.begin + q];
        for (std::size_t a = 0; a < na; ++a) w.u[a * m + q] = x[a];
      }
      plain[k]->second.apply_many(w.u.data(), m);
      for (std::size_t q = 0; q < m; ++q) {
        double* x = fp.x[g.begin + q];
        for (std::size_t a = 0; a < na; ++a) x[a] = w.u[a * m + q];
      }
    }
  }
}

/// The driver's time steps: steps restart at 0.01 h after each session and grow by 1.1 up to the
/// age-limited largest step (age_limited_step); a step never passes a session or the end.
struct CourseClock {
  const ColumnProtocol& pr;
  double t, last;  // h: now, and the start of the last session
  double dt = 0.01;
  std::size_t next = 0;   // the next session
  std::size_t added = 0;  // the next addition
  explicit CourseClock(const ColumnProtocol& p) : pr(p), t(p.session_times.front()), last(t) {}
  bool addition_due() const {
    return added < pr.additions.size() && t >= pr.additions[added].t - 1e-9 && !session_due();
  }
  bool running() const { return t < pr.end_time; }
  bool session_due() const {
    return next < pr.session_times.size() && t >= pr.session_times[next] - 1e-9;
  }
  void start_session() {
    last = pr.session_times[next];
    ++next;
    dt = 0.01;
  }
  double step() const {
    double step = std::min(dt, pr.end_time - t);
    if (next < pr.session_times.size()) step = std::min(step, pr.session_times[next] - t);
    if (added < pr.additions.size() && pr.additions[added].t > t) {
      step = std::min(step, pr.additions[added].t - t);
    }
    if (step <= 0.0) step = 1e-9;
    return step;
  }
  void advance(double step) {
    t += step;
    dt = std::min(age_limited_step(pr.max_dt, t - last), dt * 1.1);
  }
};

bool same_course(const ColumnProtocol& a, const ColumnProtocol& b) {
  auto times = [](const ColumnProtocol& c) {
    std::vector<double> t;
    for (const auto& x : c.additions) t.push_back(x.t);
    return t;
  };
  return a.session_times == b.session_times && a.end_time == b.end_time && a.max_dt == b.max_dt &&
         times(a) == times(b);
}

bool same_mesh(const Column& a, const Column& b) {
  return a.na == b.na && a.mesh.edge == b.mesh.edge && a.mesh.area == b.mesh.area &&
         a.mesh.face == b.mesh.face && a.run.base == b.run.base;
}

/// A column's key for the batched exchange (ExchangeGroup): columns with the same key form a
/// group (one band per layer, ColumnProtocol::band = 0, on the same layers; the same annuli; each
/// field in capacity form or not alike). Empty: exchanged alone (exchange_bands).
std::string exchange_key(const Column& c) {
  if (!c.pr.exchange || c.nb < 2 || c.pr.band > 0.0) return {};
  std::string key;
  for (std::size_t b = 0; b < c.nb; ++b) {
    if (b > 0 && c.bands[b].layer == c.bands[b - 1].layer) return {};  // bands within a layer
    key.push_back(static_cast<char>('0' + c.bands[b].layer));
  }
  key += ':' + std::to_string(c.na) + ':';
  for (const auto& cap : c.capacity) key.push_back(cap ? 'c' : 'd');
  return key;
}

/// The batched exchange of a group of columns with one exchange_key, laid out side by side in
/// the layer storage, built once per run: exchange_bands's conductances, capacities and scalings
/// lane by lane (the same arithmetic).
ExchangeGroup make_exchange_group(std::span<Column* const> cols) {
  const Column& c0 = *cols.front();
  ExchangeGroup e;
  e.rows = c0.nb;
  e.width = c0.na * cols.size();
  e.row = c0.band_ptr;
  e.stride = c0.band_stride;
  const std::size_t n = e.rows, wd = e.width, na = c0.na;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    for (std::size_t b = 0; b < n; ++b) {
      if (cols[i]->band_ptr[b] != e.row[b] + i * na || cols[i]->band_stride[b] != e.stride[b]) {
        throw std::logic_error("run_columns: an exchange group not laid out side by side");
      }
    }
  }
  for (std::size_t i = 0; i < c0.specs.size(); ++i) {
    const FieldSpec& sp = c0.specs[i];
    ExchangeGroup::Matrix m;
    m.cap = c0.capacity[i].has_value();
    m.decay = m.cap ? 0.0 : sp.decay;
    m.g.assign(n * wd, 0.0);
    m.dbase.assign(n * wd, 0.0);
    ExchangeGroup::Scaling sc;
    sc.in.assign(n * wd, 0.0);
    sc.out.assign(n * wd, 1.0);
    bool any = false;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const Column& c = *cols[k];
      const std::array<double, skin::kLayers>* cap = c.capacity[i] ? &*c.capacity[i] : nullptr;
      std::vector<double> g(n, 0.0);
      bool moves = false;
      for (std::size_t b = 0; b + 1 < n; ++b) {
        g[b] = band_conductance(sp, cap, c.bands[b], c.bands[b + 1]);
        moves = moves || g[b] > 0.0;
      }
      any = any || moves;
      for (std::size_t b = 0; b < n; ++b) {
        const double hb = c.bands[b].h();
        const double cb = cap != nullptr ? (*cap)[c.bands[b].layer] : 1.0;
        const double d0 = cap != nullptr ? (cb > 0.0 ? hb * cb : 1.0) : (hb > 0.0 ? hb : 1.0);
        const double in = !moves ? 0.0 : cap != nullptr ? (cb > 0.0 ? hb : 0.0) : d0;
        for (std::size_t a = 0; a < na; ++a) {
          const std::size_t q = b * wd + k * na + a;
          m.g[q] = g[b];
          m.dbase[q] = d0;
          sc.in[q] = in;
          sc.out[q] = cb;
        }
      }
    }
    if (!any) continue;
    ExchangeGroup::Field f;
    f.slot = static_cast<std::size_t>(sp.slot);
    f.matrix = e.matrix.size();
    for (std::size_t j = 0; j < e.matrix.size(); ++j) {
      const ExchangeGroup::Matrix& o = e.matrix[j];
      if (o.cap == m.cap && o.decay == m.decay && o.g == m.g && o.dbase == m.dbase) f.matrix = j;
    }
    if (f.matrix == e.matrix.size()) e.matrix.push_back(std::move(m));
    f.scaling = e.scaling.size();
    for (std::size_t j = 0; j < e.scaling.size(); ++j) {
      if (e.scaling[j].in == sc.in && e.scaling[j].out == sc.out) f.scaling = j;
    }
    if (f.scaling == e.scaling.size()) e.scaling.push_back(std::move(sc));
    e.fields.push_back(f);
  }
  return e;
}

}  // namespace

std::vector<ColumnRun> run_columns(const Params& p, std::span<const skin::SkinProfile> profs,
                                   std::span<const ColumnProtocol> prs) {
  if (profs.size() != prs.size()) {
    throw std::invalid_argument("run_columns: one profile per protocol");
  }
  std::vector<ColumnRun> out;
  if (prs.empty()) return out;
  if (!std::all_of(prs.begin(), prs.end(),
                   [&](const ColumnProtocol& c) { return same_course(c, prs.front()); })) {
    for (std::size_t i = 0; i < prs.size(); ++i) {
      out.push_back(std::move(run_columns(p, profs.subspan(i, 1), prs.subspan(i, 1)).front()));
    }
    return out;
  }
  std::vector<std::unique_ptr<Column>> cols;
  for (std::size_t i = 0; i < prs.size(); ++i) {
    cols.push_back(std::make_unique<Column>(p, profs[i], prs[i]));
  }
  // The columns of one exchange group side by side (in every layer's storage below), the groups
  // in turn; origin: each column's place in the caller's order.
  std::vector<std::string> keys(cols.size());
  std::vector<std::size_t> origin(cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    keys[i] = exchange_key(*cols[i]);
    origin[i] = i;
  }
  std::stable_sort(origin.begin(), origin.end(), [&](std::size_t a, std::size_t b) {
    return std::make_pair(keys[a].empty(), keys[a]) < std::make_pair(keys[b].empty(), keys[b]);
  });
  {
    std::vector<std::unique_ptr<Column>> sorted;
    for (std::size_t i : origin) sorted.push_back(std::move(cols[i]));
    cols = std::move(sorted);
  }
  const ColumnProtocol& pr = prs.front();
  Reactor reactor(cols.front()->model, p);
  // The compartments' values: per layer, field by field, every column's bands of that layer in
  // turn (each band's annuli contiguous).
  const std::size_t nf = cols.front()->nf;
  struct LayerStore {
    std::vector<double> data;  // field f at data[f * n ...]
    std::size_t n = 0;
  };
  std::array<LayerStore, skin::kLayers> store;
  for (auto& c : cols) {
    for (std::size_t b = 0; b < c->nb; ++b) store[c->bands[b].layer].n += c->na;
  }
  for (LayerStore& st : store) st.data.assign(nf * st.n, 0.0);
  std::array<std::size_t, skin::kLayers> used{};
  for (auto& c : cols) {
    c->band_ptr.resize(c->nb);
    c->band_stride.resize(c->nb);
    for (std::size_t b = 0; b < c->nb; ++b) {
      const std::size_t l = c->bands[b].layer;
      c->band_ptr[b] = store[l].data.data() + used[l];
      c->band_stride[b] = store[l].n;
      used[l] += c->na;
      c->layer_count[l] += c->na;
      for (std::size_t a = 0; a < c->na; ++a) {
        for (std::size_t f = 0; f < nf; ++f) c->field(b, f)[a] = c->cells[a * c->nb + b][f];
      }
    }
    c->cells = {};
  }
  std::vector<double*> ptrs(nf);
  std::vector<Column*> lat;
  LateralScratch lw;
  // The reactions' runs, planned once: per layer, the columns with its baseline in one call over
  // their compartments (contiguous in the layer's storage).
  struct ReactionRun {
    const Baseline* base = nullptr;
    double* field0 = nullptr;  // field 0 of the run's first compartment
    std::size_t stride = 0, n = 0;
  };
  std::vector<ReactionRun> reaction_runs;
  for (std::size_t l = 0; l < skin::kLayers; ++l) {
    std::size_t from = 0, n = 0;  // the run of compartments [from, from + n)
    const Baseline* b = nullptr;
    auto flush = [&]() {
      if (n == 0) return;
      reaction_runs.push_back({b, store[l].data.data() + from, store[l].n, n});
      from += n;
      n = 0;
    };
    for (const auto& c : cols) {
      const std::size_t k = c->layer_count[l];
      if (k == 0) continue;
      if (n > 0 && !(*b == c->run.base[l])) flush();
      b = &c->run.base[l];
      n += k;
    }
    flush();
  }
  // The exchange groups (ExchangeGroup); the columns in none are exchanged alone.
  std::vector<ExchangeGroup> groups;
  std::vector<Column*> alone;
  for (std::size_t i = 0; i < cols.size();) {
    const std::string& k = keys[origin[i]];
    std::size_t j = i + 1;
    while (!k.empty() && j < cols.size() && keys[origin[j]] == k) ++j;
    if (k.empty()) {
      if (cols[i]->pr.exchange) alone.push_back(cols[i].get());
    } else {
      std::vector<Column*> g;
      for (std::size_t q = i; q < j; ++q) g.push_back(cols[q].get());
      groups.push_back(make_exchange_group(g));
    }
    i = j;
  }

  // One sample per step (or those ColumnProtocol::sample_at keeps): the samples are reserved for
  // the course's steps, whose times are found first (the same clock).
  std::vector<double> times;
  for (CourseClock k(pr);; k.advance(k.step())) {
    times.push_back(k.t);
    if (!k.running()) break;
    if (k.session_due()) k.start_session();
    while (k.addition_due()) ++k.added;
  }
  // Per column, the steps whose sample it keeps (empty: all).
  std::vector<std::vector<char>> keep(cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const std::vector<double>& at = cols[i]->pr.sample_at;
    if (at.empty()) {
      cols[i]->run.samples.reserve(times.size());
      continue;
    }
    std::vector<char>& k = keep[i];
    k.assign(times.size(), 0);
    k.front() = 1;
    k.back() = 1;
    for (double t : at) {
      // ColumnRun::value's pair: the last step at or before t and the one after it.
      const auto it = std::upper_bound(times.begin(), times.end(), t);
      if (it == times.end()) continue;  // past the end: the last sample
      const auto j = static_cast<std::size_t>(it - times.begin());
      k[j] = 1;
      if (j > 0) k[j - 1] = 1;
    }
    cols[i]->run.samples.reserve(static_cast<std::size_t>(std::count(k.begin(), k.end(), 1)));
  }
  std::size_t step_no = 0;
  auto sample_all = [&](double t, double last) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (keep[i].empty() || keep[i][step_no] != 0) cols[i]->sample(t, last);
    }
    ++step_no;
  };
  CourseClock clock(pr);
  sample_all(clock.t, clock.last);
  while (clock.running()) {
    if (clock.session_due()) {
      for (auto& c : cols) c->start_session(clock.next);
      clock.start_session();
    }
    while (clock.addition_due()) {
      for (auto& c : cols) c->add_platelets(c->pr.additions[clock.added]);
      ++clock.added;
    }
    const double step = clock.step();
    const double since = clock.t + step - clock.last;
    // The reactions of every column at once (the runs planned above).
    for (const ReactionRun& r : reaction_runs) {
      for (std::size_t f = 0; f < nf; ++f) ptrs[f] = r.field0 + f * r.stride;
      reactor.react_soa(*r.base, ptrs, r.n, step);
    }
    for (auto& c : cols) c->set_epidermis(since);
    // Lateral transport: the columns on one mesh together.
    lat.clear();
    for (auto& c : cols) {
      if (c->na < 2) continue;
      if (!lat.empty() && !same_mesh(*lat.front(), *c)) {
        lateral(lat, step, lw);
        lat.clear();
      }
      lat.push_back(c.get());
    }
    if (!lat.empty()) lateral(lat, step, lw);
    // Then vertical exchange between the bands, annulus by annulus (the 3D engine's diffusion,
    // averaged over the area): growth factors spread over about a millimetre before they decay,
    // so the thin papillary dermis shares its mediators with the epidermis and the reticular
    // dermis.
    for (ExchangeGroup& g : groups) g.solve(step);
    for (Column* c : alone) {
      exchange_bands(c->specs, c->capacity, c->bands, c->band_ptr, c->band_stride, c->na, step,
                     c->scratch);
    }
    clock.advance(step);
    sample_all(clock.t, clock.last);
  }
  out.resize(cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) out[origin[i]] = cols[i]->finish();
  return out;
}

ColumnRun run_column(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr) {
  return std::move(run_columns(p, std::span<const skin::SkinProfile>(&prof, 1),
                               std::span<const ColumnProtocol>(&pr, 1))
                       .front());
}

}  // namespace mnsim::healing
