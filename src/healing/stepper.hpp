// Time stepping for a set of fields: operator splitting between transport (per field: implicit
// diffusion, explicit diffusion or none; decay/source exact) and a pointwise reaction callback,
// adaptive step size, events at given times, and health checks (see docs/numerics.md).
//
// One step of length dt (Strang splitting, the default; second order in the splitting error):
//     R(dt/2) ; T(dt) ; R(dt/2)
// Lie splitting (first order) is R(dt) ; T(dt). T is first order in time itself (backward or
// forward Euler), so the overall scheme is first order in time; Strang keeps the splitting error
// small when reactions are fast.
//
// Step control. After a trial step a scaled error err must be <= 1; otherwise the step is
// rejected, fields restored and dt reduced. Two measures (StepControl::estimate):
//   * Change: err = max over controlled fields and cells |u_new - u_old| / (rtol |u_old| + atol);
//     next step dt * clamp(safety / err, min_shrink, max_growth).
//   * StepDoubling (an estimate of the local error): a measured step is two steps of h from the
//     same start checked against one step of 2h; the two steps of h are kept, and
//         err = max |u_pair - u_long| / (4 rtol (|u_old| + atol))
//     over the controlled fields: the local error of the first-order split scheme (splitting
//     and lag errors included, which an extrapolation of the solution's own curvature misses),
//     scaled as one step of h against two of h/2 would show it (the difference grows as h^2);
//     next step dt * clamp(safety / sqrt(err), ...). Three solves per two steps; with
//     check_every the steps between measured ones are single steps of the predicted size, and
//     with grow_measured a measured step allowing that much growth has its grown successor
//     measured too (steps grow only on measured errors, never by extrapolation).
//     Steps then depend only on the solution, never on how far away the end of the run is.
//   The max over cells above is ErrorNorm::Max. ErrorNorm::Rms (the healing engine) takes
//   instead, per controlled field and region (set_norm_regions), the volume-weighted root mean
//   square of the same scaled errors, the largest of them, and with cell_factor > 0 the worst
//   cell over cell_factor if larger: a local error confined to ever thinner layers round steep
//   fronts (which fine grids resolve) no longer sets the step (docs/numerics.md, "The error
//   norm").
// Steps stay within [dt_min, dt_max] (the long step of a measurement, which is not kept, may
// be up to 2 dt_max). After an event dt restarts from dt_after_event, so steps are
// small right after a session and grow during quiet remodelling. A step is cut to land exactly on
// the next event time, stop time or end time; a stop (add_stop) keeps the step size, so a run
// observed at a stop follows the same steps as one that is not (but for the cut step).
//
// Health checks after each trial step: NaN/Inf, or (for a nonnegative field, the default) a value
// below -negative_tol of its field, throw
// mnsim::NumericalError naming the field, the cell (i, j, k), its centre in micrometres and the
// simulated time. Negative values within the tolerance are set to 0. A step rejected with
// dt <= dt_min (step-size collapse) throws NumericalError naming the field and cell that changed
// most. Fields are left as they were at the start of the failed step (also when the reaction
// callback throws).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/phase_clock.hpp"
#include "grid/grid.hpp"
#include "healing/diffusion.hpp"

namespace mnsim::healing {

enum class TransportMode {
  None,      // no diffusion (decay/source of the spec still applied exactly, pointwise)
  Implicit,  // Diffusion::step_implicit (fast diffusers)
  Explicit,  // Diffusion::step_explicit, sub-cycled (slow diffusers)
};

/// How one field of the FieldSet is advanced.
struct TransportSpec {
  TransportMode mode = TransportMode::None;
  DiffusionSpec diffusion;  // diffusivity may be empty when mode == None
  double atol = 1e-3;       // absolute change tolerance (field unit) for step control
  /// Values below -negative_tol (field unit) are a numerical failure; small negatives above it
  /// (rounding, reaction overshoot) are set to 0. Empty: 1e-3 * atol.
  std::optional<double> negative_tol{};
  bool controlled = true;   // takes part in step control (health checks always apply)
  bool nonnegative = true;  // a density: negative values are checked (false: signed field)
  /// Linear decay rate (1/s) that the reaction callback applies exactly to this field. Diffusion
  /// of a step dt then runs over coupled_diffusion_time(dt, reaction_decay) (diffusion.hpp), so a
  /// step much longer than the field's lifetime spreads it over its decay length, not over
  /// sqrt(D dt), and the discrete steady state of diffusion-decay-source is reached for any dt.
  double reaction_decay = 0.0;
};

enum class Splitting { Lie, Strang };
enum class ErrorEstimate { Change, StepDoubling };
/// How the scaled errors of the cells make one error (StepControl::norm).
enum class ErrorNorm {
  Max,  // the worst cell of any controlled field
  Rms,  // the largest over controlled fields and regions (Stepper::set_norm_regions) of the
        // volume-weighted root mean square; with StepControl::cell_factor > 0 also the worst
        // cell over cell_factor (no cell may err more than cell_factor times the tolerance)
};

struct StepControl {
  double dt_initial = 1.0;      // s
  double dt_after_event = 1.0;  // s, first trial step after an event
  double dt_min = 1e-6;         // s; a rejected step at or below it is a step-size collapse
  double dt_max = 3600.0;       // s
  double rtol = 0.05;           // relative change tolerance per step
  double safety = 0.8;
  double max_growth = 2.0;
  double min_shrink = 0.2;
  Splitting splitting = Splitting::Strang;
  ErrorEstimate estimate = ErrorEstimate::Change;
  /// StepDoubling: the error is measured on the first step after an event or a rejection, on
  /// every check_every-th step and whenever a step is longer than the controller's last measured
  /// prediction (a measured step is two steps of h against one of 2h: three solves); the steps
  /// between are single steps (one solve) of that predicted size (but see grow_measured).
  int check_every = 1;
  /// StepDoubling with check_every > 1: a measured step whose controller factor (the next
  /// step over this one, safety / sqrt(err) clamped to [min_shrink, max_growth]) is at least
  /// grow_measured has its grown successor measured too, so that steps grow by what each
  /// measurement allows (up to max_growth per measured pair) instead of once per check_every
  /// steps; a smaller factor lets the steps up to its prediction run unmeasured, as before.
  /// 0 (the default): never; the predicted size is used unmeasured.
  double grow_measured = 0.0;
  /// How the cells' scaled errors make the step's error (ErrorNorm): the worst cell's (Max) or
  /// the largest root mean square of a field over a region (Rms; CVODE's weighted RMS norm, per
  /// region), err = max(rms, worst / cell_factor) with cell_factor > 0 (0: the RMS alone).
  ErrorNorm norm = ErrorNorm::Max;
  double cell_factor = 0.0;
  /// Fill every field's ghost cells (zero-flux copies) before the reaction and the cell transport.
  /// false when neither reads them (the healing engine: pointwise reactions, cell transport on
  /// interiors); the transport's own solvers never read ghosts.
  bool ghosts = true;
};

/// Pointwise reactions over dt starting at time t (s): update the fields in place. Must be
/// deterministic and independent of the thread count. Ghost cells hold zero-flux copies (unless
/// StepControl::ghosts is false). A reaction set as a team member (Stepper::set_reaction) is
/// called by every thread of the step's team at once and shares its work with the team
/// (healing/team.hpp; the engine's Reactor::react_fields).
using Reaction = std::function<void(double t, double dt, grid::FieldSet& fields)>;
/// A reaction over dt from t written into other buffers: reads the fields and writes every
/// interior cell of every field, reacted or copied, into out[id] (padded layout, as the field);
/// the fields themselves stay as they were. With Lie splitting the stepper uses it for the first
/// reaction of a step and swaps the buffers, so the start of the step is kept without a copy
/// (StepControl docs above; Stepper::set_reaction_into).
using ReactionInto =
    std::function<void(double t, double dt, grid::FieldSet& fields, std::span<float* const> out)>;
/// Transport that needs the other fields transported first (chemotaxis up an attractant that
/// diffuses): runs at the end of every transport stage over dt (s), after the fields' own
/// transport. Must be deterministic and independent of the thread count. A cell transport set
/// as a team member (Stepper::set_cell_transport) is called by every thread of the stage's team
/// at once, and must leave all shared work to kernels that share their loops with the team
/// (healing/team.hpp; the engine's ChemotaxisOperator).
using CellTransport = std::function<void(double dt, grid::FieldSet& fields)>;
/// Event (session, puncture batch...) at time t: may modify fields and transport specs.
using EventAction = std::function<void(double t, grid::FieldSet& fields)>;
/// Called after each accepted step with the new time and the step just taken.
using StepObserver = std::function<void(double t, double dt)>;

struct StepStats {
  long accepted = 0;
  long rejected = 0;
  double dt_smallest = 0.0;  // smallest accepted step (s)
  double dt_largest = 0.0;   // largest accepted step (s)
};

/// The error of the last trial step that measured one (step doubling: the last measured pair;
/// Change: the last trial step), scaled as the controller reads it (<= 1 accepts): the
/// controlling value, the worst cell's (field, padded-free cell index) and the largest root
/// mean square of a field (ErrorNorm::Rms; computed with either norm).
struct ErrorMeasure {
  double t = 0.0;  // start of the measured step (s)
  double h = 0.0;  // its step (s)
  double err = 0.0;
  double cell = 0.0;
  int cell_field = -1;
  std::ptrdiff_t cell_at = -1;
  double rms = 0.0;
  int rms_field = -1;
  int rms_region = -1;  // 1-based (set_norm_regions)
  long count = 0;       // measurements so far
};

/// Where the steps' time goes (wall and process CPU, all threads; core/phase_clock.hpp), and how
/// many solves they took. Not part of a checkpoint: a resumed run counts from its resumption.
struct StepTimes {
  PhaseTime reaction;   // reaction stages
  PhaseTime transport;  // transport stages (the fields' transport and the cell transport)
  PhaseTime checks;     // health checks and the error measure
  PhaseTime copies;     // the start of the step kept, restored, and the full step kept
  long solves = 0;      // trial steps over the whole step or a half of it
  long measured = 0;    // measured pairs of steps (step doubling: three solves for two steps)
};

class Stepper {
 public:
  /// The FieldSet must outlive the stepper. All fields start with TransportMode::None.
  Stepper(grid::FieldSet& fields, StepControl control, double t0 = 0.0);

  /// Sets how field `id` is transported (replaces the previous spec).
  void set_field(int id, TransportSpec spec);
  const TransportSpec& field(int id) const { return specs_[static_cast<std::size_t>(id)]; }
  /// `team`: r is a team member (Reaction): with a team-member cell transport (or none), no
  /// ghost fills and fields the team kernels transport, a whole trial step (reactions,
  /// transport, health checks) then runs in one parallel region (healing/team.hpp).
  void set_reaction(Reaction r, bool team = false) {
    reaction_ = std::move(r);
    reaction_team_ = team;
  }
  /// The same reaction written into other buffers (ReactionInto): with Lie splitting, the first
  /// reaction of every step then keeps the start of the step in the backup buffers instead of a
  /// copy of every field (results identical). Needs set_reaction too. `team` as for set_reaction.
  void set_reaction_into(ReactionInto r, bool team = false) {
    reaction_into_ = std::move(r);
    reaction_into_team_ = team;
  }
  /// Fields whose health the pass that writes them last screens as it writes them, fields the
  /// cell transport does not touch: with TransportMode::None and no decay or source, the
  /// reaction; with TransportMode::Implicit on the permeability path (Diffusion::screens), the
  /// transport (Diffusion::step_implicit_shared's flags); any other listed field is scanned
  /// whole. Those passes then set screen_flags()[id * nz + k] (non-zero) for every plane k of
  /// such a field that holds a NaN, an infinite or a negative interior value after them
  /// (healing::ReactionScreen, healing/screen.hpp), and the health checks of an unmeasured step
  /// (no error measure) scan only those planes of these fields: the same failures, messages and
  /// clamping, without reading the clean planes again.
  void set_screened(std::vector<int> ids);
  std::span<const int> screened() const { return screened_; }
  /// The fields the reaction of the trial step now running is to screen: those of screened()
  /// that the reaction writes last, or none in a solve that measures the error (its checks
  /// scan the controlled fields whole anyway).
  std::span<const int> screen_fields() const {
    return screen_valid_ ? std::span<const int>(reaction_screened_) : std::span<const int>();
  }
  /// The flags the reaction sets (set_screened), zeroed by the stepper before each trial step.
  std::uint8_t* screen_flags() { return screen_.data(); }
  void set_observer(StepObserver o) { observer_ = std::move(o); }
  /// The regions over which ErrorNorm::Rms takes its root mean squares: one value per padded
  /// cell, 0 for a cell not counted, r >= 1 for region r (the healing engine: each lesion's
  /// footprint and the normal skin, each tissue layer apart; not the air). Each cell counts
  /// with its volume (its plane's dz). Empty (the default): every interior cell, one region.
  void set_norm_regions(std::span<const std::uint16_t> regions);
  /// The last error measured (ErrorMeasure).
  const ErrorMeasure& last_measure() const { return measure_; }
  /// `team`: c is a team member (CellTransport): it then runs in the transport stage's parallel
  /// region with the fields' transport instead of after it in regions of its own.
  void set_cell_transport(CellTransport c, bool team = false) {
    cell_transport_ = std::move(c);
    cell_team_ = team;
  }
  /// Schedules an event at time t >= time(); events at equal times run in insertion order.
  void add_event(double t, EventAction action);
  /// Schedules a stop: like an event (a step lands exactly on t and the action runs there), but
  /// the step size carries on as before, so observing the fields (snapshots) does not restart
  /// the step control. The action must not modify the fields.
  void add_stop(double t, EventAction action);

  /// Advances to exactly t_end, running every event with time <= t_end at its exact time.
  void advance_to(double t_end);

  double time() const { return t_; }
  /// The next trial step (s).
  double dt() const { return dt_; }
  const StepStats& stats() const { return stats_; }
  const StepTimes& times() const { return times_; }
  const StepControl& control() const { return control_; }

  // Checkpoint/restart (run/checkpoint.hpp): the stepper's own state besides the fields. Events
  // are closures and are not saved: a restarted run schedules the same events again and drops
  // the ones already run (the first `n` in time order).
  /// Events scheduled and not yet run.
  std::size_t pending_events() const { return events_.size(); }
  /// Drops the first n pending events (in the order they would run).
  void discard_events(std::size_t n);
  /// Restores time, next trial step and statistics saved from time(), dt() and stats().
  void restore(double t, double dt, const StepStats& stats);
  /// StepDoubling bookkeeping (checkpoints): steps since the error was last measured, and the
  /// step size that measurement allows unmeasured.
  long steps_since_check() const { return since_check_; }
  double checked_step() const { return h_checked_; }
  void restore_check(long steps_since_check, double checked_step);

 private:
  struct Event {
    double t = 0.0;
    long order;
    EventAction action;
    bool restart = true;  // false: a stop (add_stop)
  };
  /// The largest scaled error of a trial step: value, field and padded-free cell index.
  struct Check {
    double err = 0.0;  // the controlling value (StepControl::norm)
    int field = -1;    // the worst cell: field, index, scaled error
    std::ptrdiff_t at = -1;
    double cell = 0.0;
    double rms = 0.0;  // the largest root mean square of a controlled field over a region
    int rms_field = -1;
    int rms_region = -1;
  };
  /// Inserts an event (restart = true) or a stop in (t, insertion) order.
  void schedule(double t, EventAction action, bool restart);
  void run_due_events();
  /// Advances all fields by dt from t_ (no acceptance logic).
  void trial_step(double dt);
  /// The transport stage over dt: every field's transport (decay/source, diffusion) and the cell
  /// transport. The fields the team kernels handle (decay/source, the permeability path) and a
  /// team-member cell transport run in one parallel region (healing/team.hpp) per run of such
  /// fields in transport order; the others (uniform implicit, explicit diffusion) each open
  /// their own, as before.
  void transport(double dt);
  /// What each group takes over dt (group_steps_), with the fields as they are now; prepared
  /// before a team starts (the members only read it). Returns whether every group is
  /// transported on the team.
  bool prepare_transport(double dt);
  /// The transport stage over dt on a member of a step's team (solve): every group, then the
  /// cell transport after a barrier; the results are complete after the team's next barrier.
  void transport_members(double dt);
  /// One group's transport over dt (on a team member or alone).
  void transport_group(std::size_t group, double dt);
  /// Whether every field of a group can be transported by a member of a team.
  bool team_group(const std::vector<int>& grp) const;
  /// Groups the implicit fields whose operators share face conductances (transport solves each
  /// group in one pass, Diffusion::step_implicit_shared); fields with the same reaction_decay
  /// (hence the same diffusion time) next to each other.
  void group_fields();
  void fill_ghosts();
  /// trial_step(h) from time t0; on an exception the fields are restored from the backup.
  /// `into`: the step's first reaction is written into the backup buffers, which are then
  /// swapped with the fields (the backup is the start of the step without a copy).
  void guarded_step(double t0, double h, bool into = false);
  /// A trial step of h from t0 (guarded_step) and its health checks (check_fields), in one
  /// parallel region when every part can run on a team (team_solve), else one after the other.
  Check solve(double t0, double h, bool into, bool control);
  /// Whether solve runs the whole trial step on one team: threads pay for the grid, the
  /// reaction and the cell transport are team members, every field's transport runs on the team
  /// and no ghost cells are filled.
  bool team_solve(bool into);
  /// solve on one team (team_solve).
  Check solve_on_team(double t0, double h, bool into, bool control);
  /// The health checks' scan of every plane of every field, as a worksharing loop of the calling
  /// team without a barrier at its end (inside a parallel region), into checks_.
  void scan_planes(bool control);
  /// The checks' results (checks_) in field and plane order: a failure restores the backup and
  /// throws; else the largest scaled error.
  Check take_checks(double t0, double h);
  /// Health checks of every field after a (sub)step of h from t0 (a failure restores the backup
  /// and throws); with `control`, the error measure of the controlled fields.
  Check check_fields(double t0, double h, bool control);
  void restore_backup();
  /// Copies every field (ghosts included) into `bufs` (to_fields false) or back (true), all
  /// fields in one parallel region; a field whose buffer is empty is skipped.
  void copy_fields(std::vector<grid::AlignedBuffer>& bufs, bool to_fields);

  grid::FieldSet& fields_;
  StepControl control_;
  double t_;
  double dt_;
  std::vector<TransportSpec> specs_;
  std::vector<std::unique_ptr<Diffusion>> ops_;
  /// Fields in transport order: groups of implicit fields sharing conductances (group_fields).
  std::vector<std::vector<int>> groups_;
  bool grouped_ = false;
  /// Per group (groups_): its operators, fields and diffusion times for the step (transport()
  /// fills them before the team starts; the members only read them).
  struct GroupStep {
    std::vector<Diffusion*> ops;
    std::vector<grid::FieldView> u;
    std::vector<double> dt;
    std::vector<std::uint8_t*> flags;  // the health screen of each field (null: none)
  };
  std::vector<GroupStep> group_steps_;
  std::vector<char> team_groups_;  // per group: transported on the team (team_group)
  std::vector<grid::AlignedBuffer> backup_;
  std::vector<grid::AlignedBuffer> full_;  // StepDoubling: the full step of controlled fields
  /// What one z plane of one field looks like after a trial step.
  struct PlaneScan {
    std::ptrdiff_t bad = -1;  // first offending cell (row-major within the plane), -1 if none
    float bad_value = 0.0f;
    double err = 0.0;
    std::ptrdiff_t err_at = -1;
  };
  /// Health check of plane k of field id after a trial step (small negatives clamped), with the
  /// error measure when `controlled` (check_fields).
  PlaneScan scan_plane(int id, int k, bool controlled);
  std::vector<PlaneScan> checks_;       // per field and plane: id * nz + k
  std::vector<int> screened_;           // set_screened
  std::vector<int> reaction_screened_;  // of those, the ones the reaction screens (now)
  /// Whether field id is screened (set_screened) by the reaction or by its transport: the pass
  /// that writes it last screens it.
  bool screened_by_reaction(int id) const;
  bool screened_by_transport(int id) const;
  std::vector<std::uint8_t> screen_;  // per field and plane: id * nz + k (set_screened)
  bool screen_valid_ = false;         // the trial step's reaction set screen_
  /// Zeroes the screen flags before a trial step (set_screened); a solve that measures the
  /// error (`control`) has no screen.
  void clear_screen(bool control);
  /// The regions of set_norm_regions (empty: every interior cell, region 1) as runs of one
  /// region along each interior row (region 0, the air, left out): the runs of row (j, k) are
  /// runs_[row_runs_[k * ny + j] .. row_runs_[k * ny + j + 1]).
  struct RegionRun {
    int begin, end;
    std::uint16_t region;
  };
  std::vector<RegionRun> runs_;
  std::vector<std::size_t> row_runs_;
  int n_regions_ = 1;
  /// Per field, plane and region (id * nz + k) * n_regions_ + r - 1: the sum of the counted
  /// cells' squared scaled errors and their number (scan_plane, controlled planes).
  std::vector<std::array<double, 2>> region_sums_;
  ErrorMeasure measure_;
  long since_check_ = 0;
  double h_checked_ = 0.0;     // 0: the next step is measured
  std::vector<Event> events_;  // sorted by (t, order)
  long event_counter_ = 0;
  Reaction reaction_;
  ReactionInto reaction_into_;
  bool reaction_team_ = false;       // reaction_ is a team member (set_reaction)
  bool reaction_into_team_ = false;  // reaction_into_ is a team member (set_reaction_into)
  std::vector<float*> out_ptrs_;     // the backup buffers, as ReactionInto's `out`
  CellTransport cell_transport_;
  bool cell_team_ = false;  // cell_transport_ is a team member (set_cell_transport)
  StepObserver observer_;
  StepStats stats_;
  StepTimes times_;
};

}  // namespace mnsim::healing
