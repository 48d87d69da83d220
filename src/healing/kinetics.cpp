#include "healing/kinetics.hpp"
#include "core/constants.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mnsim::healing {

std::vector<std::uint8_t> transport_mask(const FieldSpec& spec,
                                         std::span<const std::uint8_t> layer_of) {
  std::vector<std::uint8_t> m(layer_of.size(), 0);
  for (std::size_t c = 0; c < layer_of.size(); ++c) {
    const int l = layer_of[c];
    m[c] = (l >= 1 && l <= skin::kLayers && spec.diffusivity[static_cast<std::size_t>(l - 1)] > 0.0)
               ? 1
               : 0;
  }
  return m;
}

double capacity_motility(const FieldSpec& spec, const Baselines& base,
                         std::array<double, skin::kLayers>& capacity, const Model& m) {
  capacity.fill(0.0);
  if (spec.transport != Transport::CapacityMotility || spec.decay > 0.0) return 0.0;
  double d = 0.0, lo = 0.0, hi = 0.0;
  int moving = 0;
  for (int l = 0; l < skin::kLayers; ++l) {
    const auto k = static_cast<std::size_t>(l);
    if (!(spec.diffusivity[k] > 0.0)) continue;
    const double b = baseline_state(base[k], m)[static_cast<std::size_t>(spec.slot)];
    if (!(b > 0.0)) return 0.0;
    if (moving > 0 && spec.diffusivity[k] != d) return 0.0;
    d = spec.diffusivity[k];
    lo = moving > 0 ? std::min(lo, b) : b;
    hi = moving > 0 ? std::max(hi, b) : b;
    capacity[k] = b;
    ++moving;
  }
  if (moving < 2 || lo == hi) {
    capacity.fill(0.0);
    return 0.0;
  }
  return d;
}

namespace {
/// "signal_decay = 0.5" for a healing parameter, "0.1 (drugs.toml: ...)" for a module's value.
std::string coefficient_text(const Coefficient& c, double value) {
  if (!c.param.empty()) return fmt::format("{} = {:g}", c.param, value);
  return c.source.empty() ? fmt::format("{:g}", value) : fmt::format("{:g} ({})", value, c.source);
}

std::string layers_text(const LayerSet& l) {
  static const char* const kNames[skin::kLayers] = {"SC", "VE", "PD", "RD", "HD"};
  std::vector<std::string> names;
  for (std::size_t i = 0; i < skin::kLayers; ++i) {
    if (l[i]) names.emplace_back(kNames[i]);
  }
  return fmt::format("{}", fmt::join(names, " "));
}

std::string join(const std::vector<std::string>& v) {
  return v.empty() ? "-" : fmt::format("{}", fmt::join(v, ", "));
}
}  // namespace

std::string catalog_text(const ParamSet& ps, const Model& m) {
  std::string out =
      "Healing model fields (docs/model.md): slot, name, unit, transport (layers SC, VE, PD, RD, "
      "HD; each coefficient as its data/healing.toml key = value, or value (source)):\n";
  const std::vector<FieldSpec> specs = field_specs(m, ps.p);
  for (const FieldSpec& f : specs) {
    const FieldDef& def = m.field(f.slot);
    std::string how(transport_name(f.transport));
    if (f.transport != Transport::None) {
      how += fmt::format(" in {}, diffusivity um^2/h {}", layers_text(def.layers),
                         coefficient_text(def.diffusivity, resolve(def.diffusivity, ps.p)));
    }
    if (f.chemoattractant >= 0) {
      how += fmt::format("; chemotaxis chi = {:g} up {} ({})", f.chemotaxis,
                         specs[static_cast<std::size_t>(f.chemoattractant)].name,
                         coefficient_text(def.chemotaxis, f.chemotaxis));
    }
    if (!def.decay.param.empty() || def.decay.value != 0.0) {
      how += fmt::format("; decay 1/h {}", coefficient_text(def.decay, f.decay));
    }
    out += fmt::format("  {:>2} {:<20} {:<11} {}\n", f.slot, f.name, f.unit, how);
  }
  out += "\nHealing model processes (applied in this order each reaction step):\n";
  for (const ProcessDef& p : m.processes()) {
    out += fmt::format("  {:<15} updates {}; reads {}\n", p.name, join(p.updates), join(p.reads));
  }
  out += fmt::format("\nHealing parameters ({}; working units h, um, ng/mL, mg/mL):\n", ps.file);
  for (const auto& r : ps.records) {
    out += fmt::format("  {:<40} {:<10g} {:<16} {}\n", r.section + "." + r.key, r.value, r.unit,
                       r.source);
  }
  return out;
}

double fibroblast_activation(const Params& p, double g) {
  g = std::max(g, 0.0);
  return g / (g + p.gf_half);
}

namespace {
/// The vessels' dilation by the mediators, as a share of the maximal (0..1).
double mediator_dilation(const Params& p, const State& s) {
  static const auto kSignal = static_cast<std::size_t>(healing_model().slot("inflammatory_signal"));
  const double i = std::max(s[kSignal], 0.0);
  return i / (i + p.erythema_half);
}
/// Blood out of the vessels (pinpoint bleeding, until the clot is lysed) over the layer's normal
/// blood volume fraction.
double extravasated_blood(const Baseline& b, const State& s) {
  static const auto kClot = static_cast<std::size_t>(healing_model().slot("clot"));
  return std::max(s[kClot], 0.0) / b.vascular;
}
}  // namespace

double erythema(const Params& p, const Baseline& b, const State& s) {
  if (b.vascular <= 0.0) return 0.0;
  // Redness seen from above is the haemoglobin over the layer's normal amount, in units of its
  // normal blood volume: the dilated vessels' extra blood (maximal dilation adds the normal
  // volume, so the share of the maximal dilation is the blood added) plus the blood out of the
  // vessels. Both absorb the same green light, so they add (until issue 17's slow phase only the
  // larger of the two counted).
  return mediator_dilation(p, s) + extravasated_blood(b, s);
}

double redness_weight(const Params& p, double top_um, double bottom_um) {
  const double L = p.redness_depth;
  if (!(L > 0.0) || !(bottom_um > top_um)) return 0.0;
  return std::exp(-std::max(top_um, 0.0) / L) - std::exp(-std::max(bottom_um, 0.0) / L);
}

double erythema_seen(const Params& p, const Baselines& base,
                     const std::array<State, skin::kLayers>& layers,
                     const std::array<double, skin::kLayers>& thickness_um, double flare) {
  // Depth below the top of the first vascularised layer (the papillary dermis): the epidermis
  // above attenuates every dermal layer alike.
  double z = 0.0, seen = 0.0, total = 0.0;
  bool dermis = false;
  const double f = std::clamp(flare, 0.0, 1.0);
  for (std::size_t k = 0; k < skin::kLayers; ++k) {
    const double h = std::max(thickness_um[k], 0.0);
    if (!(base[k].vascular > 0.0)) {
      if (dermis) z += h;
      continue;
    }
    // The flare dilates the vessels of the top of the dermis fully in its halos, the mediators
    // dilate them everywhere by their share (independent areas: the union of the dilations);
    // the extravasated blood adds to the blood of the dilated vessels.
    double dilation = mediator_dilation(p, layers[k]);
    if (!dermis) dilation = 1.0 - (1.0 - dilation) * (1.0 - f);
    const double e = dilation + extravasated_blood(base[k], layers[k]);
    dermis = true;
    const double w = redness_weight(p, z, z + h);
    seen += w * e;
    total += w;
    z += h;
  }
  return total > 0.0 ? seen / total : 0.0;
}

double flare_cover(const Params& p, double density, double crossing) {
  const double c = std::clamp(crossing, 0.0, 1.0);
  const double R = std::max(p.flare_radius, 0.0);
  if (!(density > 0.0) || !(c > 0.0) || !(R > 0.0)) return 0.0;
  return 1.0 - std::exp(-density * kPi * R * R * c);
}

double flare_at(const Params& p, double cover, double age) {
  if (!(age >= 0.0) || !(cover > 0.0) || !(p.flare_decay > 0.0)) return 0.0;
  return cover * std::exp(-age / p.flare_decay);
}

void react(const Params& p, const Baseline& b, State& s, double dt) {
  if (!(dt > 0.0)) return;
  Reactor(healing_model(), p).react(b, s, dt);
}

void react_states(const Params& p, const Baselines& base, std::span<const std::size_t> layer,
                  std::span<State> states, double dt) {
  Reactor(healing_model(), p).react_states(base, layer, states, dt);
}

void react_fields(const Params& p, const Baselines& base, std::span<const std::uint8_t> layer_of,
                  grid::FieldSet& fs, double dt) {
  Reactor(healing_model(), p).react_fields(base, layer_of, fs, dt);
}

void init_fields(const Baselines& base, std::span<const std::uint8_t> layer_of, grid::FieldSet& fs,
                 const Model& m) {
  const std::size_t nf = m.size();
  std::vector<int> id(nf);
  for (std::size_t f = 0; f < nf; ++f) {
    const std::string& name = m.fields()[f].name;
    int i = fs.index(name);
    if (i < 0) i = fs.add(name);
    id[f] = i;
  }
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("init_fields: layer_of must cover the padded grid");
  }
  std::array<State, skin::kLayers> bs;
  for (int l = 0; l < skin::kLayers; ++l) {
    bs[static_cast<std::size_t>(l)] = baseline_state(base[static_cast<std::size_t>(l)], m);
  }
  for (std::size_t f = 0; f < nf; ++f) {
    float* d = fs.view(id[f]).data;
    for (std::size_t c = 0; c < g.padded_size(); ++c) {
      const int l = layer_of[c];
      d[c] = l >= 1 && l <= skin::kLayers
                 ? static_cast<float>(bs[static_cast<std::size_t>(l - 1)][f])
                 : 0.0f;
    }
  }
}

double channel_radius(const Params& p, double r0, double s, double L) {
  if (s < 0.0 || s > L) return 0.0;
  const double tip = std::min(p.tip_length, L);
  const double from_tip = L - s;
  if (tip <= 0.0 || from_tip >= tip) return r0;
  return r0 * from_tip / tip;
}

double damage_at(const Params& p, double r, double d) {
  if (r <= 0.0) return 0.0;
  if (d <= r) return 1.0;
  if (p.halo_width <= 0.0) return 0.0;
  return p.halo_damage * std::exp(-(d - r) / p.halo_width);
}

double damage_area(const Params& p, double r) {
  if (r <= 0.0) return 0.0;
  const double w = p.halo_width;
  return kPi * r * r + 2.0 * kPi * p.halo_damage * (r * w + w * w);
}

void apply_puncture(const Params& p, const devices::Puncture& pu,
                    std::span<const std::uint8_t> layer_of, std::span<const double> surface,
                    grid::FieldSet& fs, InjuryTally* tally) {
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("apply_puncture: layer_of must cover the padded grid");
  }
  const bool flat = surface.empty();
  if (!flat && surface.size() != static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny)) {
    throw std::invalid_argument("apply_puncture: surface must hold nx*ny depths");
  }
  // The fields a puncture changes, found by name once per puncture.
  auto field = [&](const char* name) {
    const int i = fs.index(name);
    if (i < 0) throw std::invalid_argument(std::string("apply_puncture: missing field ") + name);
    return fs.view(i).data;
  };
  float* const damage = field("damage");
  // Cells, and the mitosis-regulating chemical they produce (removed with them, as at the start
  // of the per-channel re-epithelialisation model, reepithelialization.hpp).
  const std::array<float*, 6> cells = {field("fibroblasts"),   field("neutrophils"),
                                       field("macrophages"),   field("vascular"),
                                       field("keratinocytes"), field("mitosis_chemical")};
  // Matrix in the lumen is cut and removed (denatured collagen too); cutting the scar matrix
  // releases its hold.
  float* const denatured = field("denatured_collagen");
  const std::array<float*, 5> matrix = {field("collagen1"), field("collagen3"), field("elastin"),
                                        field("scar_matrix"), denatured};
  float* const platelets = field("platelets");
  float* const clot = field("clot");
  auto surf_at = [&](double x, double y) {
    if (flat) return 0.0;
    int i = static_cast<int>(std::floor(x / g.dx)) - g.i0;
    int j = static_cast<int>(std::floor(y / g.dx)) - g.j0;
    i = std::clamp(i, 0, g.nx - 1);
    j = std::clamp(j, 0, g.ny - 1);
    return surface[static_cast<std::size_t>(j) * static_cast<std::size_t>(g.nx) +
                   static_cast<std::size_t>(i)];
  };
  // Geometry in um.
  const double um = 1e6;
  const double ex = pu.x * um, ey = pu.y * um, ez = surf_at(pu.x, pu.y) * um;
  const double ct = std::cos(pu.tilt), st = std::sin(pu.tilt);
  const double ux = st * std::cos(pu.azimuth), uy = st * std::sin(pu.azimuth), uz = ct;
  const double L = ct > 1e-6 ? pu.depth * um / ct : 0.0;
  // The wound is the needle's track closed by elastic recoil. The roller's rigid-skin sweep
  // (Puncture::surface_length) is an upper bound of the opening, not tissue cut along the whole
  // channel: the skin is dragged along with the shaft (docs/model.md section 4).
  const double r0 = p.channel_recoil * pu.radius * um;
  if (L <= 0.0 || r0 <= 0.0) return;
  const double halo_reach = 8.0 * p.halo_width;  // exp(-8): beyond it the halo is negligible
  const double reach = r0 + halo_reach;
  const double xmin = std::min(ex, ex + L * ux) - reach, xmax = std::max(ex, ex + L * ux) + reach;
  const double ymin = std::min(ey, ey + L * uy) - reach, ymax = std::max(ey, ey + L * uy) + reach;
  const double zmax = ez + L * uz + reach;
  const double dxu = g.dx * um;
  const int i_lo = std::max(0, static_cast<int>(std::floor(xmin / dxu)) - g.i0);
  const int i_hi = std::min(g.nx - 1, static_cast<int>(std::floor(xmax / dxu)) - g.i0);
  const int j_lo = std::max(0, static_cast<int>(std::floor(ymin / dxu)) - g.j0);
  const int j_hi = std::min(g.ny - 1, static_cast<int>(std::floor(ymax / dxu)) - g.j0);
  const int k_hi = g.k_of_depth(zmax / um);
  // The thermal coagulation zone of an RF needle (Puncture::coag_*): a spheroid on the channel's
  // axis, semi-axes a across and c along it, centred at (cx, cy, cz) (um).
  const bool coag = pu.coagulated();
  const double za = pu.coag_radius * um;
  const double zc = 0.5 * (pu.coag_bottom - pu.coag_top) * um;
  const double zs = 0.5 * (pu.coag_top + pu.coag_bottom) * um / std::max(ct, 1e-6);
  const double cx = ex + zs * ux, cy = ey + zs * uy, cz = ez + zs * uz;
  // Whether the point (x, y, z) (um) lies in the zone.
  auto in_zone = [&](double x, double y, double z) {
    const double px = x - cx, py = y - cy, pz = z - cz;
    const double s = px * ux + py * uy + pz * uz;  // along the axis
    const double q2 = px * px + py * py + pz * pz - s * s;
    return q2 / (za * za) + s * s / (zc * zc) <= 1.0;
  };
  const double zext = coag ? std::max(za, zc) : 0.0;
  InjuryTally t;
  for (int k = 0; k <= k_hi; ++k) {
    const double z0 = g.zf[static_cast<std::size_t>(k)] * um, dz = g.dz(k) * um;
    for (int j = j_lo; j <= j_hi; ++j) {
      for (int i = i_lo; i <= i_hi; ++i) {
        const std::ptrdiff_t cidx = g.at(i, j, k);
        const int l = layer_of[static_cast<std::size_t>(cidx)];
        if (l < 1 || l > skin::kLayers) continue;
        const double x0 = (g.i0 + i) * dxu, y0 = (g.j0 + j) * dxu;
        // Distance of the voxel centre to the channel axis segment (slot widened): voxels
        // farther than the reach plus the half diagonal are skipped, voxels entirely inside the
        // constant-radius part of the lumen are filled without sub-sampling.
        const double hd = 0.5 * std::sqrt(2.0 * dxu * dxu + dz * dz);
        double dcen = 0.0, scen = 0.0;
        {
          const double px = x0 + 0.5 * dxu - ex, py = y0 + 0.5 * dxu - ey, pz = z0 + 0.5 * dz - ez;
          scen = px * ux + py * uy + pz * uz;
          const double sc = std::clamp(scen, 0.0, L);
          const double qx = px - sc * ux, qy = py - sc * uy, qz = pz - sc * uz;
          dcen = std::sqrt(qx * qx + qy * qy + qz * qz);
        }
        if (dcen - hd > r0 + halo_reach) continue;
        // Sub-samples per axis: 4 where the lumen wall may cross the voxel, 2 in the smooth halo.
        const int S = dcen - hd > r0 ? 2 : 4;
        double dsum = 0.0, lsum = 0.0, bsum = 0.0;  // bsum: lumen that bleeds (not coagulated)
        // Whether the voxel may reach into the coagulation zone.
        const double vx = x0 + 0.5 * dxu - cx, vy = y0 + 0.5 * dxu - cy, vz = z0 + 0.5 * dz - cz;
        const bool near_zone = coag && vx * vx + vy * vy + vz * vz < (zext + hd) * (zext + hd);
        const bool inside = !near_zone && dcen + hd < r0 && scen - hd >= 0.0 &&
                            scen + hd <= L - std::min(p.tip_length, L);
        if (inside) {
          dsum = lsum = bsum = static_cast<double>(S * S * S);
        } else {
          for (int a = 0; a < S; ++a) {
            for (int bb = 0; bb < S; ++bb) {
              for (int cc = 0; cc < S; ++cc) {
                const double px = x0 + (a + 0.5) * dxu / S - ex;
                const double py = y0 + (bb + 0.5) * dxu / S - ey;
                const double pz = z0 + (cc + 0.5) * dz / S - ez;
                const double s = px * ux + py * uy + pz * uz;
                if (s < 0.0 || s > L) continue;
                const double qx = px - s * ux, qy = py - s * uy, qz = pz - s * uz;
                const double d = std::sqrt(qx * qx + qy * qy + qz * qz);
                const double r = channel_radius(p, r0, s, L);
                dsum += damage_at(p, r, d);
                const bool lumen_here = r > 0.0 && d <= r;
                lsum += lumen_here ? 1.0 : 0.0;
                // Heat seals the vessels of the coagulated tissue: no blood from there.
                bsum +=
                    lumen_here && !(near_zone && in_zone(px + ex, py + ey, pz + ez)) ? 1.0 : 0.0;
              }
            }
          }
        }
        if (dsum <= 0.0) continue;
        const double inv = 1.0 / (S * S * S);
        const double dadd = std::min(1.0, dsum * inv);
        const double lumen = lsum * inv, bleeding = bsum * inv;
        const double vol = g.dx * g.dx * g.dz(k);
        const double keep = 1.0 - dadd;
        damage[cidx] = static_cast<float>(1.0 - (1.0 - damage[cidx]) * keep);
        for (float* f : cells) f[cidx] = static_cast<float>(f[cidx] * keep);
        const double mkeep = 1.0 - p.matrix_loss * lumen;
        for (float* f : matrix) f[cidx] = static_cast<float>(f[cidx] * mkeep);
        if (pu.bled) {
          const double blood = p.blood_fill * bleeding;
          platelets[cidx] = static_cast<float>(std::min(1.0, platelets[cidx] + blood));
          clot[cidx] = static_cast<float>(std::min(1.0, clot[cidx] + blood));
          t.blood_volume += blood * vol;
        }
        t.lumen_volume += lumen * vol;
        t.damage_volume += dadd * vol;
      }
    }
  }
  if (coag) {
    // The coagulation zone: the cells in it are killed (damage, cell loss as in the lumen); a
    // share coag_denatured of its collagen (and of the scar matrix's hold) is denatured and
    // moved to the denatured_collagen pool, left in place until cleared; its elastin is lost
    // (matrix_loss); voxel-averaged by 3^3 sub-samples.
    const double phi = std::clamp(pu.coag_denatured, 0.0, 1.0);
    float* const c1 = field("collagen1");
    float* const c3 = field("collagen3");
    float* const elastin = field("elastin");
    float* const scar = field("scar_matrix");
    const int ci_lo = std::max(0, static_cast<int>(std::floor((cx - zext) / dxu)) - g.i0);
    const int ci_hi = std::min(g.nx - 1, static_cast<int>(std::floor((cx + zext) / dxu)) - g.i0);
    const int cj_lo = std::max(0, static_cast<int>(std::floor((cy - zext) / dxu)) - g.j0);
    const int cj_hi = std::min(g.ny - 1, static_cast<int>(std::floor((cy + zext) / dxu)) - g.j0);
    const int ck_hi = g.k_of_depth((cz + zext) / um);
    constexpr int S = 3;
    for (int k = 0; k <= ck_hi; ++k) {
      const double z0 = g.zf[static_cast<std::size_t>(k)] * um, dz = g.dz(k) * um;
      if (z0 + dz < cz - zext) continue;
      for (int j = cj_lo; j <= cj_hi; ++j) {
        for (int i = ci_lo; i <= ci_hi; ++i) {
          const std::ptrdiff_t cidx = g.at(i, j, k);
          const int l = layer_of[static_cast<std::size_t>(cidx)];
          if (l < 1 || l > skin::kLayers) continue;
          const double x0 = (g.i0 + i) * dxu, y0 = (g.j0 + j) * dxu;
          int in = 0;
          for (int aa = 0; aa < S; ++aa) {
            for (int bb = 0; bb < S; ++bb) {
              for (int cc = 0; cc < S; ++cc) {
                in += in_zone(x0 + (aa + 0.5) * dxu / S, y0 + (bb + 0.5) * dxu / S,
                              z0 + (cc + 0.5) * dz / S)
                          ? 1
                          : 0;
              }
            }
          }
          if (in == 0) continue;
          const double f = static_cast<double>(in) / (S * S * S);
          const double keep = 1.0 - f;
          damage[cidx] = static_cast<float>(1.0 - (1.0 - damage[cidx]) * keep);
          for (float* fl : cells) fl[cidx] = static_cast<float>(fl[cidx] * keep);
          const double den = f * phi;
          const double moved = (static_cast<double>(c1[cidx]) + c3[cidx]) * den;
          c1[cidx] = static_cast<float>(c1[cidx] * (1.0 - den));
          c3[cidx] = static_cast<float>(c3[cidx] * (1.0 - den));
          denatured[cidx] = static_cast<float>(denatured[cidx] + moved);
          scar[cidx] = static_cast<float>(scar[cidx] * (1.0 - den));
          elastin[cidx] = static_cast<float>(elastin[cidx] * (1.0 - p.matrix_loss * f));
          t.coag_volume += f * g.dx * g.dx * g.dz(k);
          t.denatured_collagen += moved * g.dx * g.dx * g.dz(k);
        }
      }
    }
  }
  if (tally) {
    tally->coag_volume += t.coag_volume;
    tally->denatured_collagen += t.denatured_collagen;
    tally->lumen_volume += t.lumen_volume;
    tally->blood_volume += t.blood_volume;
    tally->damage_volume += t.damage_volume;
    tally->punctures += 1;
  }
}

}  // namespace mnsim::healing
