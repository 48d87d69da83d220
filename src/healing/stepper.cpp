#include "healing/stepper.hpp"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>

#include "core/error.hpp"
#include "core/kernel.hpp"
#include "healing/team.hpp"

namespace mnsim::healing {

namespace {

std::string cell_text(const grid::Grid& g, int i, int j, int k) {
  return fmt::format("cell ({}, {}, {}), position ({:.1f}, {:.1f}, {:.1f}) µm", i, j, k,
                     g.xc(i) * 1e6, g.yc(j) * 1e6, g.zc(k) * 1e6);
}

}  // namespace

Stepper::Stepper(grid::FieldSet& fields, StepControl control, double t0)
    : fields_(fields), control_(control), t_(t0), dt_(control.dt_initial) {
  const StepControl& c = control_;
  if (!(c.dt_min > 0.0) || !(c.dt_max >= c.dt_min) || !(c.dt_initial > 0.0) ||
      !(c.dt_after_event > 0.0) || !(c.rtol > 0.0) || !(c.safety > 0.0 && c.safety <= 1.0) ||
      !(c.max_growth >= 1.0) || !(c.min_shrink > 0.0 && c.min_shrink < 1.0) || c.check_every < 1 ||
      !(c.cell_factor >= 0.0) || !std::isfinite(c.cell_factor)) {
    throw std::invalid_argument("internal: inconsistent StepControl");
  }
  dt_ = std::clamp(dt_, c.dt_min, c.dt_max);
  const auto n = static_cast<std::size_t>(fields_.size());
  specs_.resize(n);
  ops_.resize(n);
  backup_.resize(n);
  full_.resize(n);
}

void Stepper::set_field(int id, TransportSpec spec) {
  if (id < 0 || id >= fields_.size()) throw std::out_of_range("internal: no field id");
  if (!(spec.atol > 0.0) || (spec.negative_tol && !(*spec.negative_tol >= 0.0)) ||
      !(spec.reaction_decay >= 0.0) || !std::isfinite(spec.reaction_decay)) {
    throw std::invalid_argument(
        "internal: field spec needs atol > 0, negative_tol >= 0, reaction_decay >= 0");
  }
  const auto k = static_cast<std::size_t>(id);
  ops_[k].reset();
  grouped_ = false;
  if (spec.mode != TransportMode::None) {
    ops_[k] = std::make_unique<Diffusion>(fields_.grid(), spec.diffusion);
    // One table of face conductances for the fields that have the same ones (the same fixed
    // permeability and diffusivities).
    for (std::size_t o = 0; o < ops_.size(); ++o) {
      if (o != k && ops_[o] && ops_[k]->can_share(*ops_[o])) {
        ops_[k]->share_conductances(*ops_[o]);
        break;
      }
    }
  } else if (!(spec.diffusion.decay >= 0.0) || !std::isfinite(spec.diffusion.source)) {
    throw std::invalid_argument("internal: decay must be >= 0 and source finite");
  }
  specs_[k] = std::move(spec);
}

void Stepper::set_screened(std::vector<int> ids) {
  for (const int id : ids) {
    if (id < 0 || id >= fields_.size()) throw std::out_of_range("internal: no field id");
  }
  screened_ = std::move(ids);
}

bool Stepper::screened_by_reaction(int id) const {
  const TransportSpec& s = specs_[static_cast<std::size_t>(id)];
  return static_cast<bool>(reaction_) && s.mode == TransportMode::None &&
         s.diffusion.decay == 0.0 && s.diffusion.source == 0.0 &&
         std::find(screened_.begin(), screened_.end(), id) != screened_.end();
}

bool Stepper::screened_by_transport(int id) const {
  const auto f = static_cast<std::size_t>(id);
  // (Strang splitting: the second reaction writes after the transport)
  const bool last = control_.splitting == Splitting::Lie || !reaction_;
  return last && specs_[f].mode == TransportMode::Implicit && ops_[f] && ops_[f]->screens() &&
         std::find(screened_.begin(), screened_.end(), id) != screened_.end();
}

void Stepper::clear_screen(bool control) {
  screen_valid_ = !control && !screened_.empty();
  reaction_screened_.clear();
  if (!screen_valid_) return;
  for (const int id : screened_) {
    if (screened_by_reaction(id)) reaction_screened_.push_back(id);
  }
  screen_.assign(
      static_cast<std::size_t>(fields_.size()) * static_cast<std::size_t>(fields_.grid().nz), 0);
}

void Stepper::set_norm_regions(std::span<const std::uint16_t> regions) {
  const grid::Grid& g = fields_.grid();
  if (!regions.empty() && regions.size() != g.padded_size()) {
    throw std::invalid_argument("internal: norm regions need one value per padded cell");
  }
  runs_.clear();
  row_runs_.assign(static_cast<std::size_t>(g.ny) * static_cast<std::size_t>(g.nz) + 1, 0);
  n_regions_ = 1;
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      if (regions.empty()) {
        runs_.push_back({0, g.nx, 1});
      } else {
        const std::uint16_t* rrg = regions.data() + g.at(0, j, k);
        for (int i = 0; i < g.nx;) {
          int e = i + 1;
          while (e < g.nx && rrg[e] == rrg[i]) ++e;
          if (rrg[i] != 0) runs_.push_back({i, e, rrg[i]});
          n_regions_ = std::max<int>(n_regions_, rrg[i]);
          i = e;
        }
      }
      row_runs_[static_cast<std::size_t>(k) * static_cast<std::size_t>(g.ny) +
                static_cast<std::size_t>(j) + 1] = runs_.size();
    }
  }
}

void Stepper::add_event(double t, EventAction action) {
  schedule(t, std::move(action), true);
}

void Stepper::add_stop(double t, EventAction action) {
  schedule(t, std::move(action), false);
}

void Stepper::schedule(double t, EventAction action, bool restart) {
  if (!(t >= t_) || !std::isfinite(t)) {
    throw std::invalid_argument("internal: event time must be finite and not in the past");
  }
  Event e{t, event_counter_++, std::move(action), restart};
  const auto pos = std::upper_bound(
      events_.begin(), events_.end(), e,
      [](const auto& a, const auto& b) { return a.t < b.t || (a.t == b.t && a.order < b.order); });
  events_.insert(pos, std::move(e));
}

void Stepper::restore_check(long steps_since_check, double checked_step) {
  if (steps_since_check < 0 || !std::isfinite(checked_step) || checked_step < 0.0) {
    throw std::invalid_argument("internal: restored step-check state out of range");
  }
  since_check_ = steps_since_check;
  h_checked_ = checked_step;
}

void Stepper::discard_events(std::size_t n) {
  if (n > events_.size()) throw std::out_of_range("internal: discarding more events than pending");
  events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n));
}

void Stepper::restore(double t, double dt, const StepStats& stats) {
  if (!std::isfinite(t) || !(dt >= control_.dt_min && dt <= control_.dt_max)) {
    throw std::invalid_argument("internal: restored time or step out of range");
  }
  t_ = t;
  dt_ = dt;
  stats_ = stats;
}

void Stepper::run_due_events() {
  bool ran = false;
  while (!events_.empty() && events_.front().t <= t_) {
    Event e = std::move(events_.front());
    events_.erase(events_.begin());
    e.action(t_, fields_);
    ran = ran || e.restart;
  }
  if (ran) {
    dt_ = std::clamp(control_.dt_after_event, control_.dt_min, control_.dt_max);
    h_checked_ = 0.0;  // no step is longer than 0: the first step after the event is measured
  }
}

void Stepper::fill_ghosts() {
  if (!control_.ghosts) return;
  for (int id = 0; id < fields_.size(); ++id) grid::fill_ghosts_neumann(fields_.view(id));
}

void Stepper::group_fields() {
  groups_.clear();
  for (int id = 0; id < fields_.size(); ++id) {
    const auto k = static_cast<std::size_t>(id);
    bool joined = false;
    if (specs_[k].mode == TransportMode::Implicit) {
      for (auto& grp : groups_) {
        const auto f = static_cast<std::size_t>(grp.front());
        if (specs_[f].mode == TransportMode::Implicit && ops_[k]->shares_with(*ops_[f])) {
          grp.push_back(id);
          joined = true;
          break;
        }
      }
    }
    if (!joined) groups_.push_back({id});
  }
  for (auto& grp : groups_) {
    std::stable_sort(grp.begin(), grp.end(), [&](int a, int b) {
      return specs_[static_cast<std::size_t>(a)].reaction_decay <
             specs_[static_cast<std::size_t>(b)].reaction_decay;
    });
  }
  grouped_ = true;
}

bool Stepper::team_group(const std::vector<int>& grp) const {
  for (int id : grp) {
    const auto k = static_cast<std::size_t>(id);
    switch (specs_[k].mode) {
      case TransportMode::None:
        break;  // decay_source
      case TransportMode::Implicit:
        if (!ops_[k]->team_kernels()) return false;
        break;
      case TransportMode::Explicit:
        return false;
    }
  }
  return true;
}

void Stepper::transport_group(std::size_t group, double dt) {
  const std::vector<int>& grp = groups_[group];
  const GroupStep& gs = group_steps_[group];
  if (grp.size() > 1) {  // implicit fields sharing conductances: one pass
    Diffusion::step_implicit_shared(gs.ops, gs.u, gs.dt, gs.flags);
    return;
  }
  const int id = grp.front();
  const TransportSpec& s = specs_[static_cast<std::size_t>(id)];
  switch (s.mode) {
    case TransportMode::None:
      decay_source(gs.u.front(), dt, s.diffusion.decay, s.diffusion.source);
      break;
    case TransportMode::Implicit:  // (with the health screen of set_screened)
      Diffusion::step_implicit_shared(gs.ops, gs.u, gs.dt, gs.flags);
      break;
    case TransportMode::Explicit:
      gs.ops.front()->step_explicit(gs.u.front(), gs.dt.front());
      break;
  }
}

bool Stepper::prepare_transport(double dt) {
  if (!grouped_) {
    group_fields();
    group_steps_.assign(groups_.size(), {});
    team_groups_.assign(groups_.size(), 0);
    for (std::size_t q = 0; q < groups_.size(); ++q) team_groups_[q] = team_group(groups_[q]);
  }
  bool all_team = true;
  for (std::size_t q = 0; q < groups_.size(); ++q) {
    GroupStep& gs = group_steps_[q];
    gs.ops.clear();
    gs.u.clear();
    gs.dt.clear();
    gs.flags.clear();
    for (int id : groups_[q]) {
      const auto k = static_cast<std::size_t>(id);
      gs.ops.push_back(ops_[k].get());
      gs.u.push_back(fields_.view(id));
      gs.dt.push_back(coupled_diffusion_time(dt, specs_[k].reaction_decay));
      gs.flags.push_back(screen_valid_ && screened_by_transport(id)
                             ? screen_.data() + k * static_cast<std::size_t>(fields_.grid().nz)
                             : nullptr);
    }
    all_team = all_team && team_groups_[q];
  }
  return all_team;
}

void Stepper::transport(double dt) {
  const PhaseClock clock(times_.transport);
  // What each group takes this step, prepared before the team starts (the members only read).
  const bool all_team = prepare_transport(dt);
  // The cell transport reads the transported fields: on the team only when every field is
  // transported there before it, and when no ghost cells need filling.
  const bool cell_team =
      cell_transport_ && cell_team_ && all_team && !control_.ghosts && !groups_.empty();
  // Groups in their order: each run of groups the team kernels handle in one parallel region
  // (healing/team.hpp; the kernels share their loops with the team, every member calling them
  // in the same order), the others alone.
  const std::size_t n = groups_.size();
  const bool threads = threads_pay(fields_.grid());
  for (std::size_t q = 0; q < n;) {
    if (!team_groups_[q]) {
      transport_group(q, dt);
      ++q;
      continue;
    }
    std::size_t end = q;
    while (end < n && team_groups_[end]) ++end;
    const bool with_cells = cell_team && end == n;
#pragma omp parallel if (threads)
    {
      const TeamMember member;
      for (std::size_t r = q; r < end; ++r) transport_group(r, dt);
      if (with_cells) {
#pragma omp barrier
        cell_transport_(dt, fields_);
      }
    }
    q = end;
  }
  if (cell_transport_ && !cell_team) {
    fill_ghosts();
    cell_transport_(dt, fields_);
  }
}

void Stepper::transport_members(double dt) {
  for (std::size_t q = 0; q < groups_.size(); ++q) transport_group(q, dt);
  if (cell_transport_) {
    // The fields' transport complete (a team kernel's last loop may end without a barrier).
#pragma omp barrier
    cell_transport_(dt, fields_);
  }
}

void Stepper::trial_step(double dt) {
  const bool react = static_cast<bool>(reaction_);
  auto reaction = [&](double t, double h) {
    const PhaseClock clock(times_.reaction);
    fill_ghosts();
    reaction_(t, h, fields_);
  };
  if (control_.splitting == Splitting::Strang && react) {
    reaction(t_, 0.5 * dt);
    transport(dt);
    reaction(t_ + 0.5 * dt, 0.5 * dt);
  } else {
    // Reaction first: cells act on the mediator values the previous transport left (for a field
    // with reaction_decay, the steady state of its diffusion-decay balance), and the stored state
    // after every step is the transported one.
    if (react) reaction(t_, dt);
    transport(dt);
  }
}

void Stepper::restore_backup() {
  copy_fields(backup_, true);
}

void Stepper::copy_fields(std::vector<grid::AlignedBuffer>& bufs, bool to_fields) {
  const PhaseClock clock(times_.copies);
  const grid::Grid& g = fields_.grid();
  const int nf = fields_.size();
  const auto pz = static_cast<int>(g.pz());
  const auto plane = static_cast<std::size_t>(g.sz());
  const std::size_t bytes = plane * sizeof(float);
  const bool big = threads_pay(g);
  // Whole padded planes (ghosts included), every field in one parallel region.
#pragma omp parallel for schedule(static) if (big)
  for (int q = 0; q < nf * pz; ++q) {
    const std::size_t f = static_cast<std::size_t>(q / pz);
    if (bufs[f].size() == 0) continue;  // a field not kept there
    const std::size_t at = static_cast<std::size_t>(q % pz) * plane;
    float* field = fields_.view(static_cast<int>(f)).data + at;
    float* buf = bufs[f].data() + at;
    if (to_fields) {
      std::memcpy(field, buf, bytes);
    } else {
      std::memcpy(buf, field, bytes);
    }
  }
}

void Stepper::guarded_step(double t0, double h, bool into) {
  const double keep = t_;
  t_ = t0;
  ++times_.solves;
  if (into) {
    // Lie splitting: R(h) into the backup buffers (the fields are not touched, so a throwing
    // reaction leaves them as they were), then swapped: the fields hold the reacted state, the
    // backup the start of the step.
    try {
      const PhaseClock clock(times_.reaction);
      fill_ghosts();
      out_ptrs_.resize(static_cast<std::size_t>(fields_.size()));
      for (int id = 0; id < fields_.size(); ++id) {
        out_ptrs_[static_cast<std::size_t>(id)] = backup_[static_cast<std::size_t>(id)].data();
      }
      reaction_into_(t_, h, fields_, out_ptrs_);
    } catch (...) {
      t_ = keep;
      throw;
    }
    for (int id = 0; id < fields_.size(); ++id) {
      fields_.swap_buffer(id, backup_[static_cast<std::size_t>(id)]);
    }
  }
  try {
    if (into) {
      transport(h);
    } else {
      trial_step(h);
    }
  } catch (...) {  // e.g. a NumericalError from the reaction: leave no half-advanced fields
    t_ = keep;
    restore_backup();
    throw;
  }
  t_ = keep;
}

bool Stepper::team_solve(bool into) {
  if (!threads_pay(fields_.grid()) || control_.ghosts) return false;
  if (cell_transport_ && !cell_team_) return false;
  if (reaction_ && !(into ? reaction_into_team_ : reaction_team_)) return false;
  if (!grouped_) (void)prepare_transport(dt_);  // groups the fields (team_groups_)
  return std::all_of(team_groups_.begin(), team_groups_.end(), [](char t) { return t != 0; });
}

Stepper::Check Stepper::solve(double t0, double h, bool into, bool control) {
  clear_screen(control);
  if (team_solve(into)) return solve_on_team(t0, h, into, control);
  guarded_step(t0, h, into);
  return check_fields(t0, h, control);
}

Stepper::Check Stepper::solve_on_team(double t0, double h, bool into, bool control) {
  const double keep = t_;
  t_ = t0;
  ++times_.solves;
  const int nf = fields_.size();
  const auto swap = [this, nf] {
    for (int id = 0; id < nf; ++id) fields_.swap_buffer(id, backup_[static_cast<std::size_t>(id)]);
  };
  if (into) {
    out_ptrs_.resize(static_cast<std::size_t>(nf));
    for (int id = 0; id < nf; ++id) {
      out_ptrs_[static_cast<std::size_t>(id)] = backup_[static_cast<std::size_t>(id)].data();
    }
    // The transport's fields as they will be after the reaction's swap (below).
    swap();
    (void)prepare_transport(h);
    swap();
  } else {
    (void)prepare_transport(h);
  }
  checks_.resize(static_cast<std::size_t>(nf) * static_cast<std::size_t>(fields_.grid().nz));
  const bool strang = control_.splitting == Splitting::Strang && reaction_;
  bool swapped = false;
  std::exception_ptr error;
  std::optional<PhaseClock> clock;  // the first member's phase, from barrier to barrier
  // One parallel region for the whole trial step (healing/team.hpp): the reactions, the
  // transport stage and the health checks' scan are the team's loops, every member calling them
  // in the same order; a barrier wherever a stage reads what the one before wrote. The phase
  // clocks run on the first member, from barrier to barrier (the checks' to their results).
#pragma omp parallel
  {
    const TeamMember member;
    const bool first = omp_get_thread_num() == 0;
    // A team-member callback throws on every member at once (its argument checks), before its
    // first worksharing loop, so the members skip the same barriers.
    try {
      if (first) clock.emplace(times_.reaction);
      if (into) {
        reaction_into_(t_, h, fields_, out_ptrs_);
        // The reaction's loop ended with a barrier: every cell is written. The first member swaps
        // the buffers while the others go on: the transport's kernels work on the views prepared
        // above, and what reads the FieldSet (the cell transport, the checks) comes after a
        // barrier.
        if (first) {
          swap();
          swapped = true;
        }
      } else if (reaction_) {
        reaction_(t_, strang ? 0.5 * h : h, fields_);
      }
      if (first) clock.emplace(times_.transport);
      transport_members(h);
#pragma omp barrier
      if (strang) {
        if (first) clock.emplace(times_.reaction);
        reaction_(t_ + 0.5 * h, 0.5 * h, fields_);
      }
      if (first) clock.emplace(times_.checks);
      scan_planes(control);
    } catch (...) {
#pragma omp critical(mnsim_stepper_team_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) {
    t_ = keep;
    if (swapped || !into) restore_backup();
    std::rethrow_exception(error);
  }
  t_ = keep;
  return take_checks(t0, h);  // (the checks' clock still running)
}

MNSIM_KERNEL Stepper::PlaneScan Stepper::scan_plane(int id, int k, bool controlled) {
  const grid::Grid& g = fields_.grid();
  const auto fk = static_cast<std::size_t>(id);
  const TransportSpec& s = specs_[fk];
  const bool doubling = control_.estimate == ErrorEstimate::StepDoubling;
  float* u = fields_.view(id).data;
  const float* old = backup_[fk].data();
  // The error is measured against `ref`: the start of the step (Change) or the result of one
  // full step (StepDoubling); the tolerance scales with the start of the step.
  const float* ref = doubling && controlled ? full_[fk].data() : old;
  const double neg_tol = s.negative_tol.value_or(1e-3 * s.atol);
  const float ntol =
      s.nonnegative ? static_cast<float>(neg_tol) : std::numeric_limits<float>::infinity();
  const float rtol = static_cast<float>(control_.rtol);
  // StepDoubling: atol is the field's magnitude floor, the tolerance rtol (|u_old| + atol).
  const float atol = static_cast<float>(doubling ? control_.rtol * s.atol : s.atol);
  const bool nonneg = s.nonnegative;
  const float fmax = std::numeric_limits<float>::max();
  const float floor_v = nonneg ? 0.0f : -fmax;  // clamp of small negatives (densities)
  const int nx = g.nx, ny = g.ny;
  // This plane's sums per region (ErrorNorm::Rms), written by this call only.
  std::array<double, 2>* sums =
      region_sums_.data() + (static_cast<std::size_t>(id) * static_cast<std::size_t>(g.nz) +
                             static_cast<std::size_t>(k)) *
                                static_cast<std::size_t>(n_regions_);
  std::fill(sums, sums + n_regions_, std::array<double, 2>{0.0, 0.0});
  PlaneScan pc;
  // A field the reaction or its transport wrote last and screened (set_screened): only its
  // flagged planes.
  if (!controlled && screen_valid_ &&
      screen_[fk * static_cast<std::size_t>(g.nz) + static_cast<std::size_t>(k)] == 0 &&
      (screened_by_reaction(id) || screened_by_transport(id))) {
    return pc;
  }
  if (!controlled) {
    // Health checks only: one screen of the plane's rows and the ghost cells between them as
    // one run (no loop per row). A plane with no bad and no negative value (the common case)
    // is done; any other is scanned row by row below (a flagged ghost cell then finds nothing).
    const float* first = u + g.at(0, 0, k);
    const std::ptrdiff_t n = g.at(nx - 1, ny - 1, k) - g.at(0, 0, k) + 1;
    int flags = 0;
#pragma omp simd reduction(| : flags)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const float v = first[i];
      flags |= static_cast<int>(!(v >= 0.0f)) | static_cast<int>(std::fabs(v) > fmax);
    }
    if (flags == 0) return pc;
  }
  for (int j = 0; j < ny; ++j) {
    float* ur = u + g.at(0, j, k);
    const float* orow = old + g.at(0, j, k);
    const float* rrow = ref + g.at(0, j, k);
    // Screen the row (vectorised; max and | reductions do not depend on order), then
    // rescan only rows that hold a bad value, a negative value or a new maximum.
    int flags = 0;
    float rmax = 0.0f;
    const std::size_t row =
        static_cast<std::size_t>(k) * static_cast<std::size_t>(ny) + static_cast<std::size_t>(j);
    // A row of one region from end to end (the common case) sums its squared errors in the
    // screen's own loop; any other row by runs below (ErrorNorm::Rms).
    const bool one_run = controlled && row_runs_[row + 1] == row_runs_[row] + 1 &&
                         runs_[row_runs_[row]].begin == 0 && runs_[row_runs_[row]].end == nx;
    float row_sq = 0.0f;
    if (controlled) {
#pragma omp simd reduction(| : flags) reduction(max : rmax) reduction(+ : row_sq)
      for (int i = 0; i < nx; ++i) {
        const float v = ur[i];
        const int bad = static_cast<int>(!(v >= -ntol)) | static_cast<int>(std::fabs(v) > fmax);
        flags |= bad | (static_cast<int>(v < 0.0f) << 1);
        const float vc = v < floor_v ? floor_v : v;
        const float r = std::fabs(vc - rrow[i]) / (rtol * std::fabs(orow[i]) + atol);
        rmax = r > rmax ? r : rmax;
        row_sq += r * r;
      }
    } else {  // health checks only: no error measure
#pragma omp simd reduction(| : flags)
      for (int i = 0; i < nx; ++i) {
        const float v = ur[i];
        const int bad = static_cast<int>(!(v >= -ntol)) | static_cast<int>(std::fabs(v) > fmax);
        flags |= bad | (static_cast<int>(v < 0.0f) << 1);
      }
    }
    if (flags & 1) {
      for (int i = 0; i < nx; ++i) {
        const float v = ur[i];
        if (!(v >= -ntol) || std::fabs(v) > fmax) {
          pc.bad = static_cast<std::ptrdiff_t>(j) * nx + i;
          pc.bad_value = v;
          break;
        }
      }
      break;  // the first offending cell of this plane is found
    }
    if ((flags & 2) && nonneg) {
      for (int i = 0; i < nx; ++i) ur[i] = ur[i] < 0.0f ? 0.0f : ur[i];
    }
    if (controlled) {
      // The squared errors summed per region (ErrorNorm::Rms): measured solves only, one in
      // check_every steps. A row is cut into runs of one region (a lesion's footprint, the
      // normal skin), each summed as one vector reduction: a fixed order for a given build,
      // whatever the thread count (a plane is one thread's).
      if (one_run) {
        std::array<double, 2>& acc = sums[runs_[row_runs_[row]].region - 1];
        acc[0] += static_cast<double>(row_sq);
        acc[1] += static_cast<double>(nx);
      }
      for (std::size_t q = one_run ? row_runs_[row + 1] : row_runs_[row]; q < row_runs_[row + 1];
           ++q) {
        const RegionRun& run = runs_[q];
        // In float within a run (at most a row: a relative rounding of 1e-5 on a norm), in
        // double over the runs.
        float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
        for (int c = run.begin; c < run.end; ++c) {
          const float r = std::fabs(ur[c] - rrow[c]) / (rtol * std::fabs(orow[c]) + atol);
          sq += r * r;
        }
        std::array<double, 2>& acc = sums[run.region - 1];
        acc[0] += static_cast<double>(sq);
        acc[1] += static_cast<double>(run.end - run.begin);
      }
    }
    if (controlled && rmax > pc.err) {
      // Where the row's largest error is (the scalar loop may round differently from the
      // vector one: the largest value found here is the one kept).
      for (int i = 0; i < nx; ++i) {
        const float r = std::fabs(ur[i] - rrow[i]) / (rtol * std::fabs(orow[i]) + atol);
        if (r > pc.err) {
          pc.err = r;
          pc.err_at = static_cast<std::ptrdiff_t>(j) * nx + i;
        }
      }
    }
  }
  return pc;
}

void Stepper::scan_planes(bool control) {
  const int nf = fields_.size(), nz = fields_.grid().nz;
#pragma omp for schedule(dynamic, 4) nowait
  for (int q = 0; q < nf * nz; ++q) {
    const int id = q / nz;
    checks_[static_cast<std::size_t>(q)] =
        scan_plane(id, q % nz, control && specs_[static_cast<std::size_t>(id)].controlled);
  }
}

Stepper::Check Stepper::check_fields(double t0, double h, bool control) {
  const PhaseClock clock(times_.checks);
  const grid::Grid& g = fields_.grid();
  checks_.resize(static_cast<std::size_t>(fields_.size()) * static_cast<std::size_t>(g.nz));
  // Every plane of every field in one parallel region; the results are then taken in field and
  // plane order, as a field-by-field scan would (a failure restores every field anyway).
#pragma omp parallel if (threads_pay(g))  // below this, threads cost more than they save
  scan_planes(control);
  return take_checks(t0, h);
}

Stepper::Check Stepper::take_checks(double t0, double h) {
  const grid::Grid& g = fields_.grid();
  const int nf = fields_.size(), nz = g.nz, nx = g.nx, ny = g.ny;
  Check out;
  const auto nr = static_cast<std::size_t>(n_regions_);
  std::vector<std::array<double, 2>> field_sums(nr);  // per region: by volume (dz)
  for (int id = 0; id < nf; ++id) {
    std::fill(field_sums.begin(), field_sums.end(), std::array<double, 2>{0.0, 0.0});
    for (int k = 0; k < nz; ++k) {
      const PlaneScan& pc = checks_[static_cast<std::size_t>(id) * static_cast<std::size_t>(nz) +
                                    static_cast<std::size_t>(k)];
      if (pc.bad >= 0) {
        const TransportSpec& s = specs_[static_cast<std::size_t>(id)];
        const double neg_tol = s.negative_tol.value_or(1e-3 * s.atol);
        const int i = static_cast<int>(pc.bad % nx), j = static_cast<int>(pc.bad / nx);
        const std::string what =
            std::isnan(pc.bad_value) ? std::string("NaN")
            : std::isinf(pc.bad_value)
                ? fmt::format("infinite value {}", pc.bad_value)
                : fmt::format("negative value {:.6g} (tolerance {:.3g})", pc.bad_value, neg_tol);
        restore_backup();
        throw NumericalError(
            fmt::format("numerical failure: field '{}': {} at {}, simulated time {:.9g} s (step "
                        "of {:.6g} s from {:.9g} s)",
                        fields_.name(id), what, cell_text(g, i, j, k), t0 + h, h, t0));
      }
      if (pc.err > out.cell) {
        out.cell = pc.err;
        out.field = id;
        out.at = pc.err_at + static_cast<std::ptrdiff_t>(k) * nx * ny;
      }
      const std::array<double, 2>* sums =
          region_sums_.data() + (static_cast<std::size_t>(id) * static_cast<std::size_t>(nz) +
                                 static_cast<std::size_t>(k)) *
                                    nr;
      for (std::size_t r = 0; r < nr; ++r) {
        field_sums[r][0] += g.dz(k) * sums[r][0];
        field_sums[r][1] += g.dz(k) * sums[r][1];
      }
    }
    for (std::size_t r = 0; r < nr; ++r) {
      if (!(field_sums[r][1] > 0.0)) continue;
      const double rms = std::sqrt(field_sums[r][0] / field_sums[r][1]);
      if (rms > out.rms) {
        out.rms = rms;
        out.rms_field = id;
        out.rms_region = static_cast<int>(r) + 1;
      }
    }
  }
  if (control_.norm == ErrorNorm::Max) {
    out.err = out.cell;
  } else {
    out.err =
        control_.cell_factor > 0.0 ? std::max(out.rms, out.cell / control_.cell_factor) : out.rms;
  }
  return out;
}

void Stepper::advance_to(double t_end) {
  if (!(t_end >= t_) || !std::isfinite(t_end)) {
    throw std::invalid_argument("internal: advance_to needs a finite time not in the past");
  }
  const grid::Grid& g = fields_.grid();
  const int nf = fields_.size();
  if (static_cast<std::size_t>(nf) != specs_.size()) {
    throw std::logic_error("internal: fields added to the FieldSet after the Stepper was made");
  }
  const bool doubling = control_.estimate == ErrorEstimate::StepDoubling;
  for (int id = 0; id < nf; ++id) {
    const auto f = static_cast<std::size_t>(id);
    if (backup_[f].size() != g.padded_size()) backup_[f] = grid::AlignedBuffer(g.padded_size());
    if (doubling && specs_[f].controlled && full_[f].size() != g.padded_size()) {
      full_[f] = grid::AlignedBuffer(g.padded_size());
    }
  }
  if (row_runs_.empty()) set_norm_regions({});
  region_sums_.resize(static_cast<std::size_t>(nf) * static_cast<std::size_t>(g.nz) *
                      static_cast<std::size_t>(n_regions_));
  // Step factor for a scaled error e: a change grows as h; the difference between one step and
  // two half steps of a first-order scheme (its local error) as h^2.
  const double order = doubling ? 0.5 : 1.0;

  run_due_events();
  while (t_ < t_end) {
    double target = t_end;
    if (!events_.empty() && events_.front().t < target) target = events_.front().t;
    double h = std::min(dt_, control_.dt_max);
    // StepDoubling measures the error on the first step after an event or a rejection, on every
    // check_every-th step and on every step longer than the last one measured; the steps between
    // are single steps of the measured size. A measured step is two steps of h (the result)
    // checked against one step of 2h from the same start, so every step of the result has the
    // controller's size and the measure costs one solve.
    const bool checked =
        doubling && (since_check_ + 1 >= control_.check_every || h > h_checked_ * (1.0 + 1e-12));
    const double steps = checked ? 2.0 : 1.0;  // steps of h this trial takes
    bool land = false;
    const double left = target - t_;
    if (left <= steps * h * (1.0 + 1e-9)) {
      h = left / steps;
      land = true;
    } else if (left < (steps + 1.0) * h) {
      h = left / (steps + 1.0);  // equal steps instead of full ones and a sliver
    }

    // The start of the step, kept for a rejection or a failure: by the first reaction written
    // into the backup buffers (Lie splitting with set_reaction_into), else copied.
    const bool into = static_cast<bool>(reaction_into_) && static_cast<bool>(reaction_) &&
                      control_.splitting == Splitting::Lie;
    if (!into) copy_fields(backup_, false);
    Check c;
    double err = 0.0;
    double scale = 1.0;  // of the check's errors to the controller's
    if (!checked) {
      c = solve(t_, h, into, !doubling);
      if (!doubling) err = c.err;
    } else {
      // One step of 2h (kept for the controlled fields), then two steps of h from the same start:
      // they are the result, their difference from the long step the error.
      ++times_.measured;
      (void)solve(t_, 2.0 * h, into, false);
      copy_fields(full_, false);  // the controlled fields (the others have no buffer there)
      restore_backup();
      (void)solve(t_, h, false, false);
      c = solve(t_ + h, h, false, true);
      // Scaled as the difference one step of h would show against two of h/2 (rtol keeps its
      // meaning): the difference grows as h^2, so a quarter of the pair's.
      scale = 0.25;
      err = scale * c.err;
    }
    if (checked || !doubling) {
      measure_.t = t_;
      measure_.h = h;
      measure_.err = err;
      measure_.cell = scale * c.cell;
      measure_.cell_field = c.field;
      measure_.cell_at = c.at;
      measure_.rms = scale * c.rms;
      measure_.rms_field = c.rms_field;
      measure_.rms_region = c.rms_region;
      ++measure_.count;
    }

    if (err <= 1.0) {
      const bool first = stats_.accepted == 0;
      stats_.accepted += checked ? 2 : 1;
      stats_.dt_smallest = first ? h : std::min(stats_.dt_smallest, h);
      stats_.dt_largest = std::max(stats_.dt_largest, h);
      t_ = land ? target : t_ + steps * h;
      const double factor = err > 0.0 ? std::clamp(control_.safety * std::pow(err, -order),
                                                   control_.min_shrink, control_.max_growth)
                                      : control_.max_growth;
      double next = checked || !doubling ? h * factor : dt_;
      if (land && h < dt_) next = factor >= 1.0 ? dt_ : std::min(dt_, next);
      dt_ = std::clamp(next, control_.dt_min, control_.dt_max);
      // The size the controller predicts from a measured error may be used unmeasured, unless
      // it grows by grow_measured or more: then the grown step is measured too (h_checked_ is
      // the step just measured, and the next is longer), so steps grow as fast as the measured
      // errors allow and never by extrapolation.
      if (checked) {
        since_check_ = 1;  // the measured pair's second step
        const bool grow = control_.grow_measured > 0.0 && factor >= control_.grow_measured;
        h_checked_ = grow ? std::min(h, dt_) : dt_;
      } else {
        ++since_check_;
      }
      if (observer_) observer_(t_, h);
      run_due_events();
    } else {
      ++stats_.rejected;
      restore_backup();
      if (h <= control_.dt_min) {
        const auto cells = static_cast<std::ptrdiff_t>(g.nx) * g.ny;
        const int k = static_cast<int>(c.at / cells);
        const auto rem = c.at % cells;
        const int j = static_cast<int>(rem / g.nx), i = static_cast<int>(rem % g.nx);
        throw NumericalError(fmt::format(
            "numerical failure: step-size collapse: a step of {:.3g} s (minimum {:.3g} s) still "
            "changes field '{}' too fast at {}, simulated time {:.9g} s",
            h, control_.dt_min, fields_.name(c.field), cell_text(g, i, j, k), t_));
      }
      dt_ = std::max(control_.dt_min,
                     h * std::max(control_.min_shrink, control_.safety * std::pow(err, -order)));
      h_checked_ = 0.0;  // the retry is measured too
    }
  }
}

}  // namespace mnsim::healing
