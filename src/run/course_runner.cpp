#include "run/course_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/constants.hpp"
#include "core/rng.hpp"
#include "io/fields_h5.hpp"
#include "run/assess.hpp"
#include "run/run_state.hpp"

namespace mnsim {

CourseRunner::CourseRunner(healing::Engine& engine, CourseInputs in, CourseCheckpoints ck,
                           RunRecord& rec, Progress& progress)
    : engine_(engine),
      in_(in),
      ck_(std::move(ck)),
      rec_(rec),
      progress_(progress),
      last_checkpoint_(std::chrono::steady_clock::now()) {
  for (const auto& f : engine_.specs()) rec_.ts.set_unit(f.name, f.unit);
  geometry_ = scar_geometries(in_.patch);
  footprints_ = scar_footprints(engine_, in_.patch);
  schedule();
}

devices::StageResult CourseRunner::device_stage(int session_index) const {
  return devices::run_device_stage(
      in_.device, in_.technique, in_.profile, in_.area,
      session_seed(in_.seed, static_cast<std::uint64_t>(session_index)));
}

// The layer means of every field and the state of every scar at time t.
void CourseRunner::sample(double t) {
  const PhaseClock clock(times_.samples);
  const healing::LayerMeans m = engine_.layer_means();
  for (int l = 0; l < skin::kLayers; ++l) {
    const std::string layer(skin::layer_name(skin::layer_from_index(l)));
    for (const auto& s : engine_.specs()) {
      rec_.ts.add(t, s.name, layer,
                  m[static_cast<std::size_t>(l)][static_cast<std::size_t>(s.slot)]);
    }
  }
  if (geometry_.empty()) return;
  const std::vector<ScarNow> scars = scars_now(engine_, geometry_, footprints_, rec_.tethers, t);
  for (std::size_t i = 0; i < scars.size(); ++i) {
    rec_.scars.push_back({t, static_cast<std::uint32_t>(i), scars[i].r.depth_after,
                          scars[i].in.rise_under, scars[i].in.rise_around,
                          scars[i].in.band_intact});
  }
}

// Snapshots go to OUT/checkpoint as they are taken (written on writes_' thread, before the next
// checkpoint, which lists them); fields.h5 is assembled from them at the end, so a killed and
// resumed run neither loses nor repeats one.
void CourseRunner::snapshot(double t, const std::string& label, const grid::FieldSet& fields) {
  const PhaseClock clock(times_.snapshots);
  const grid::Grid& g = engine_.grid();
  StoredSnapshot s;
  s.t = t;
  s.label = label;
  s.nx = g.nx;
  s.ny = g.ny;
  s.nz = g.nz;
  s.field_names = in_.plan.fields;
  // The file before is finished first (its error thrown), so one encoded file is held at a time.
  writes_.wait();
  s.values = io::gather_interior(fields, in_.plan.fields);
  writes_.start([file = snapshot_path(ck_.out, rec_.snapshots.size()),
                 c = encode_snapshot(s, ck_.key)] { io::write_checkpoint(file, c); });
  rec_.snapshots.push_back({t, label});
}

// One session: the device stage's punctures deposited into the tissue.
void CourseRunner::session(const protocol::Session& s, double t, grid::FieldSet& fields) {
  sample(t);
  session_ran_ = true;
  if (in_.plan.before_sessions) snapshot(t, fmt::format("before session {}", s.index + 1), fields);
  devices::StageResult st;
  healing::InjuryTally tally;
  {
    const PhaseClock clock(times_.sessions);
    st = device_stage(s.index);
    tally = engine_.apply_session(st.punctures);
    // The tethering bands: cut by this session's needles, failed when what is left cannot carry
    // their load (course state, checkpointed with the record).
    band_session(rec_.tethers, engine_, in_.patch, geometry_, footprints_, st.punctures, in_.area,
                 in_.params, t);
  }
  if (s.index == 0) {
    rec_.first_stats = st.stats;
    rec_.first_punctures = st.punctures;
  }
  const double bleeding = st.stats["fraction_bleeding"].get<double>();
  if (in_.applications) {
    in_.applications->session(s.index, t, st.punctures,
                              st.stats["density_per_cm2"]["mean"].get<double>(), bleeding, fields);
  }
  rec_.bleeding_sum += bleeding * static_cast<double>(st.punctures.size());
  rec_.puncture_total += st.punctures.size();
  SessionRecord r;
  r.session = s.index + 1;
  r.day = t / kDay;
  r.date = s.date;
  r.punctures = st.punctures.size();
  r.density_per_cm2 = st.stats["density_per_cm2"]["mean"].get<double>();
  r.depth_um_mean = st.stats["depth_um"]["mean"].get<double>();
  r.fraction_bleeding = bleeding;
  // The channels' deepest layer, from the local surface (devices::puncture_stats).
  r.fraction_past_dermis = st.stats["fraction_reaching_layer"]["hypodermis"].get<double>();
  r.lumen_volume_mm3 = tally.lumen_volume * 1e9;
  r.blood_volume_mm3 = tally.blood_volume * 1e9;
  rec_.sessions.push_back(r);
  progress_.note(fmt::format("session {} of {} (day {:.0f}): {} punctures, {:.0f} um deep",
                             s.index + 1, in_.course.sessions.size(), t / kDay, st.punctures.size(),
                             r.depth_um_mean));
  if (in_.plan.after_sessions) snapshot(t, fmt::format("after session {}", s.index + 1), fields);
  rec_.add_punctures_csv(s.index + 1, devices::punctures_csv(st.punctures));
  sample(t);
}

void CourseRunner::schedule() {
  healing::Stepper& stepper = engine_.stepper();
  for (const auto& s : in_.course.sessions) {
    ++events_total_;
    stepper.add_event(s.time,
                      [this, s](double t, grid::FieldSet& fields) { session(s, t, fields); });
  }
  // The applications after the sessions (events at equal times run in insertion order: after
  // the session's).
  if (in_.applications) events_total_ += in_.applications->schedule(stepper, in_.course);
  const double every = in_.plan.every;
  if (every > 0.0) {
    for (double t = every; t < in_.course.end_time - 1e-6; t += every) {
      ++events_total_;
      stepper.add_stop(t, [this](double te, grid::FieldSet& fields) {
        snapshot(te, fmt::format("day {:.1f}", te / kDay), fields);
      });
    }
  }
  // The sample times: the stepper lands on each (a stop keeps the step size).
  for (const double t : in_.plan.sample_times) {
    ++events_total_;
    stepper.add_stop(t, [this](double te, grid::FieldSet&) { sample(te); });
  }
}

void CourseRunner::save(bool durable) {
  const PhaseClock clock(times_.checkpoints);
  if (in_.applications && !in_.applications->empty()) {
    rec_.applications_state = in_.applications->state();
  }
  save_run_state(ck_.out, ck_.key, engine_, rec_,
                 events_total_ - engine_.stepper().pending_events(), ck_.started, ck_.wall(),
                 writes_);
  last_checkpoint_ = std::chrono::steady_clock::now();
  if (durable) writes_.wait();
}

void CourseRunner::restore(const RunState& r) {
  restore_run_state(ck_.out, ck_.key, r, in_.course, engine_, rec_);
  if (in_.applications && !in_.applications->empty()) {
    try {
      in_.applications->restore(rec_.applications_state);
    } catch (const std::exception&) {
      checkpoint_mismatch(run_checkpoint_path(ck_.out),
                          "holds no readable state of the [[application]]s");
    }
  }
  // The first session's punctures feed the report's density map: drawn again (same seed).
  if (!rec_.first_stats.is_null() && !in_.course.sessions.empty()) {
    rec_.first_punctures = device_stage(in_.course.sessions[0].index).punctures;
  }
  progress_.note(fmt::format("resuming from the checkpoint at simulated day {:.2f} of {:.0f}",
                             r.t / kDay, in_.course.end_time / kDay));
}

// After every accepted step: progress and checkpoints (always between accepted steps, before due
// events run: a sample or snapshot due at t runs after the checkpoint, and again after a resume).
void CourseRunner::observe(double t, double dt) {
  const double end = in_.course.end_time;
  progress_.advance(t, end);
  const healing::Stepper& stepper = engine_.stepper();
  spdlog::debug("t = {:.4g} h, dt = {:.3g} s, steps {} accepted, {} rejected, {} solves", t / kHour,
                dt, stepper.stats().accepted, stepper.stats().rejected, stepper.times().solves);
  const healing::ErrorMeasure& m = stepper.last_measure();
  if (m.count != measures_logged_) {
    measures_logged_ = m.count;
    const auto& names = engine_.fields();
    const grid::Grid& g = engine_.grid();
    const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(g.nx) * g.ny;
    const std::ptrdiff_t at = std::max<std::ptrdiff_t>(m.cell_at, 0);
    spdlog::debug(
        "measured at t = {:.6g} h, h = {:.4g} s: err {:.4g}, rms {:.4g} ({}, region {}), worst "
        "cell {:.4g} "
        "({}, cell {} {} {})",
        m.t / kHour, m.h, m.err, m.rms, m.rms_field >= 0 ? names.name(m.rms_field) : "-",
        m.rms_region, m.cell, m.cell_field >= 0 ? names.name(m.cell_field) : "-", at % g.nx,
        (at % plane) / g.nx, at / plane);
  }
  const int sig = ck_.stop ? ck_.stop->requested() : 0;
  const bool due =
      ck_.every > 0.0 &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_).count() >=
          ck_.every;
  if (sig != 0 || session_ran_ || due) {
    save(sig != 0);
    session_ran_ = false;
  }
  if (sig != 0) {
    throw Interrupted(sig, fmt::format("stopped at simulated day {:.2f} of {:.0f}; checkpoint "
                                       "saved in {}",
                                       t / kDay, end / kDay, checkpoint_dir(ck_.out).string()));
  }
}

void CourseRunner::run(bool resumed) {
  engine_.stepper().set_observer([this](double t, double dt) { observe(t, dt); });
  if (!resumed) sample(0.0);
  if (!rec_.finished) {
    const double end = in_.course.end_time;
    engine_.stepper().advance_to(end);
    sample(end);
    if (in_.plan.end) snapshot(end, "end of follow-up", engine_.fields());
    // What remains is quick to redo: a run killed while it writes its results, or stopped by a
    // full disk there, resumes from here.
    rec_.finished = true;
    save(true);
  }
  progress_.advance(in_.course.end_time, in_.course.end_time);
}

}  // namespace mnsim
