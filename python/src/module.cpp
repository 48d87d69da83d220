// mnsim._mnsim: the compiled half of the Python module (docs/python.md). A driver like the CLI
// (apps/mnsim/main.cpp): it parses inputs with the library's schemas, calls the library's entry
// points and hands back what they return, as JSON text or Python strings. No physics here; the
// pure-Python package python/mnsim turns the results into DataFrames and Datasets.
//
// Inputs are a file (`path`) or TOML text (`text`, made by mnsim._toml from a dict, `path` then
// names it in messages). Library errors become Python exceptions: InputError as
// mnsim.InputError (file, line, col, key, problem, expected), NumericalError and OutputError as
// mnsim.NumericalError and mnsim.OutputError, an interruption (Ctrl-C, a Jupyter interrupt) as
// KeyboardInterrupt once the run has checkpointed.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "core/command_line.hpp"
#include "core/data_dir.hpp"
#include "core/error.hpp"
#include "core/scenario.hpp"
#include "core/version.hpp"
#include "healing/model.hpp"
#include "io/toml_file.hpp"
#include "protocol/cohort.hpp"
#include "protocol/plan.hpp"
#include "protocol/reduced.hpp"
#include "run/run.hpp"
#include "run/scenario_schema.hpp"
#include "run/sweep.hpp"

namespace py = pybind11;

namespace {

using mnsim::Override;
using mnsim::Table;

/// A file, or TOML text named `path` in messages.
Table parse_input(const std::string& path, const std::optional<std::string>& text,
                  const mnsim::schema::Key& root, const std::string& what,
                  const std::vector<Override>& overrides) {
  if (!text) return mnsim::io::load_toml_file(path, root, what, overrides);
  if (text->size() > mnsim::kMaxScenarioBytes) {
    throw mnsim::InputError({path, 0, 0}, "", "the TOML text is too large",
                            fmt::format("at most {} bytes", mnsim::kMaxScenarioBytes));
  }
  return mnsim::parse_scenario_text(
      *text, path, root, what == "a TOML scenario file" ? std::string() : what, overrides);
}

/// (KEY, TOML value) pairs as overrides.
std::vector<Override> to_overrides(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<Override> out;
  out.reserve(kv.size());
  for (const auto& [k, v] : kv) out.push_back(Override{k, v});
  return out;
}

/// Runs `work` (which takes the stop token it should honour) on a worker thread while this
/// thread, holding the GIL only between waits, checks for Python signals (Ctrl-C, a Jupyter
/// interrupt): on one, it asks the work to stop (the library checkpoints and throws
/// Interrupted), waits for it, and raises KeyboardInterrupt.
template <class Result>
Result interruptible(std::function<Result(const mnsim::StopToken*)> work) {
  mnsim::StopToken stop;
  std::future<Result> done = std::async(std::launch::async, [&] { return work(&stop); });
  bool asked = false;
  for (;;) {
    std::future_status st;
    {
      py::gil_scoped_release release;
      st = done.wait_for(std::chrono::milliseconds(100));
    }
    if (st == std::future_status::ready) break;
    if (!asked && PyErr_CheckSignals() != 0) {
      PyErr_Clear();  // KeyboardInterrupt is raised below, once the work has stopped
      stop.request(SIGINT);
      asked = true;
    }
  }
  try {
    return done.get();
  } catch (const mnsim::Interrupted& e) {
    const std::string msg =
        fmt::format("interrupted: {}; call again with resume=True to continue", e.what());
    PyErr_SetString(PyExc_KeyboardInterrupt, msg.c_str());
    throw py::error_already_set();
  }
}

/// Calls `f` with the GIL released (work that cannot be stopped part-way).
template <class F>
auto released(F&& f) {
  py::gil_scoped_release release;
  return f();
}

std::string run_scenario(const std::string& path, const std::optional<std::string>& text,
                         const std::vector<std::pair<std::string, std::string>>& overrides,
                         const std::string& out, int threads, std::optional<std::uint64_t> seed,
                         bool force, bool resume, double checkpoint_every) {
  Table sc = parse_input(path, text, mnsim::scenario_schema(), "a TOML scenario file",
                         to_overrides(overrides));
  return interruptible<std::string>([&](const mnsim::StopToken* stop) {
    mnsim::RunOptions o;
    o.out_dir = out;
    o.threads = threads;
    o.seed = seed;
    o.force = force;
    o.resume = resume;
    o.checkpoint_every = checkpoint_every;
    o.stop = stop;
    return mnsim::run_scenario(std::move(sc), o).summary.dump();
  });
}

/// `mnsim check`: the resolved scenario and the memory estimate (bytes).
std::pair<std::string, double> check_scenario(
    const std::string& path, const std::optional<std::string>& text,
    const std::vector<std::pair<std::string, std::string>>& overrides,
    std::optional<std::uint64_t> seed) {
  Table sc = parse_input(path, text, mnsim::scenario_schema(), "a TOML scenario file",
                         to_overrides(overrides));
  mnsim::apply_seed_override(sc, seed);
  const mnsim::MemoryEstimate mem = released([&] { return mnsim::validate_semantics(sc); });
  return {sc.to_toml(), mem.resident()};
}

/// `mnsim cohort`: writes OUT/cohort.json and the patients files; returns cohort.json's text.
std::string run_cohort(const std::string& path, const std::optional<std::string>& text,
                       const std::vector<std::pair<std::string, std::string>>& overrides,
                       const std::string& out, int threads, bool force, bool resume) {
  const mnsim::protocol::CohortSpec spec = mnsim::protocol::read_cohort(parse_input(
      path, text, mnsim::protocol::cohort_schema(), "a TOML cohort file", to_overrides(overrides)));
  return released([&] {
    const auto model = mnsim::protocol::ReducedModel::load_default();
    mnsim::protocol::CohortRunOptions o;
    o.out_dir = out;
    o.threads = threads;
    o.force = force;
    o.resume = resume;
    return mnsim::protocol::cohort_json(mnsim::protocol::run_cohort(model, spec, o).result);
  });
}

/// `mnsim plan`: the plan as JSON (plan_json), CSV (plan_csv), the text table, and each ranked
/// protocol as a runnable scenario (plan_scenario, rank 1 first).
py::dict plan(const std::string& path, const std::optional<std::string>& text,
              const std::vector<std::pair<std::string, std::string>>& overrides, int threads,
              const std::string& start_date) {
  const std::string start =
      start_date.empty() ? "" : mnsim::parse_date_option(start_date, "start_date");
  const mnsim::protocol::PlanPatient patient = mnsim::protocol::read_plan_patient(
      parse_input(path, text, mnsim::protocol::plan_schema(), "a TOML planner patient file",
                  to_overrides(overrides)));
  struct Out {
    std::string json, csv, table;
    std::vector<std::string> scenarios;
  };
  const Out o = released([&] {
    const auto model = mnsim::protocol::ReducedModel::load_default();
    const auto p = mnsim::protocol::make_plan(model, patient, threads);
    Out r{mnsim::protocol::plan_json(patient, p, start),
          mnsim::protocol::plan_csv(p),
          mnsim::protocol::plan_table(patient, p, start),
          {}};
    for (std::size_t k = 1; k <= p.ranked.size(); ++k) {
      r.scenarios.push_back(mnsim::protocol::plan_scenario(patient, p, static_cast<int>(k), start));
    }
    return r;
  });
  py::dict d;
  d["json"] = o.json;
  d["csv"] = o.csv;
  d["table"] = o.table;
  d["scenarios"] = o.scenarios;
  return d;
}

/// The outcome of one patient (reduced model) as JSON, in the units of patients.csv.
nlohmann::ordered_json outcome_json(const mnsim::protocol::PatientOutcome& o) {
  using nlohmann::ordered_json;
  auto scars = [](const std::vector<mnsim::outcomes::RemodelResult>& v) {
    ordered_json a = ordered_json::array();
    for (std::size_t i = 0; i < v.size(); ++i) {
      a.push_back({{"scar", i},
                   {"depth_um_before", v[i].depth_before * 1e6},
                   {"depth_um_after", v[i].depth_after * 1e6},
                   {"volume_mm3_before", v[i].volume_before * 1e9},
                   {"volume_mm3_after", v[i].volume_after * 1e9},
                   {"fill_um", v[i].fill * 1e6},
                   {"release_um", v[i].release * 1e6},
                   {"band_failed", v[i].band_failed},
                   {"depth_reduction_pct", 100.0 * v[i].reduction()}});
    }
    return a;
  };
  ordered_json at = ordered_json::array();
  for (const auto& t : o.at) {
    at.push_back({{"follow_up_days", t.follow_up / mnsim::kDay},
                  {"gb_quantitative_after", t.gb_quant_after},
                  {"gb_qualitative_after", t.gb_qual_after},
                  {"scar_depth_reduction_pct", t.depth_reduction_pct},
                  {"papillary_collagen_change_pct", 100.0 * t.papillary_collagen_change},
                  {"reticular_collagen_change_pct", 100.0 * t.reticular_collagen_change},
                  {"dermal_collagen_change_pct", 100.0 * t.dermal_collagen_change},
                  {"papillary_elastin_change_pct", 100.0 * t.papillary_elastin_change},
                  {"reticular_elastin_change_pct", 100.0 * t.reticular_elastin_change},
                  {"epidermal_thickness_change_pct", 100.0 * t.epidermal_thickness_change},
                  {"dermal_thickness_change_um", 1e6 * t.dermal_thickness_change},
                  {"scars", scars(t.scars)}});
  }
  ordered_json course = ordered_json::array();
  for (const auto& c : o.channel_course) {
    course.push_back({{"hours", c[0]}, {"open_fraction", c[1]}, {"tewl_excess", c[2]}});
  }
  return {
      {"sessions", o.sessions},
      {"depth_reached_um", o.depth_reached * 1e6},
      {"deepest_um", o.deepest * 1e6},
      {"density_per_cm2", o.density * 1e-4},
      {"bled", o.bled},
      {"gb_quantitative_before", o.gb_quant_before},
      {"gb_quantitative_after", o.gb_quant_after},
      {"gb_qualitative_before", o.gb_qual_before},
      {"gb_qualitative_after", o.gb_qual_after},
      {"scar_depth_reduction_pct", o.depth_reduction_pct},
      {"papillary_collagen_change_pct", 100.0 * o.papillary_collagen_change},
      {"reticular_collagen_change_pct", 100.0 * o.reticular_collagen_change},
      {"dermal_collagen_change_pct", 100.0 * o.dermal_collagen_change},
      {"papillary_elastin_change_pct", 100.0 * o.papillary_elastin_change},
      {"reticular_elastin_change_pct", 100.0 * o.reticular_elastin_change},
      {"epidermal_thickness_change_pct", 100.0 * o.epidermal_thickness_change},
      {"dermal_thickness_change_um", 1e6 * o.dermal_thickness_change},
      {"collagen1_share", o.collagen1_share},
      {"melanin_peak", o.melanin_peak},
      {"pih_risk", o.pih_risk},
      {"erythema_days", o.erythema_days},
      {"barrier_hours", o.barrier_hours},
      {"channel_closure_hours",
       o.channel_closure_hours < 0 ? ordered_json(nullptr) : ordered_json(o.channel_closure_hours)},
      {"neutrophil_peak_h", o.neutrophil_peak_h},
      {"macrophage_peak_h", o.macrophage_peak_h},
      {"collagen3_peak_h", o.collagen3_peak_h},
      {"collagen1_peak_h", o.collagen1_peak_h},
      {"scars", scars(o.scars)},
      {"at", at},
      {"channel_course", course}};
}

/// The reduced model for one patient: the patient of a planner patient file (its [patient],
/// [[scars]] and [inventory]) treated with the [protocol] of a cohort file (its first arm).
std::string reduced(const std::string& patient_path, const std::optional<std::string>& patient_text,
                    const std::vector<std::pair<std::string, std::string>>& patient_overrides,
                    const std::string& protocol_path,
                    const std::optional<std::string>& protocol_text,
                    const std::vector<std::pair<std::string, std::string>>& protocol_overrides) {
  const mnsim::protocol::PlanPatient patient = mnsim::protocol::read_plan_patient(
      parse_input(patient_path, patient_text, mnsim::protocol::plan_schema(),
                  "a TOML planner patient file", to_overrides(patient_overrides)));
  const mnsim::protocol::CohortSpec cohort = mnsim::protocol::read_cohort(
      parse_input(protocol_path, protocol_text, mnsim::protocol::cohort_schema(),
                  "a TOML cohort file", to_overrides(protocol_overrides)));
  if (cohort.arms.size() != 1) {
    throw mnsim::InputError({protocol_path, 0, 0}, "arms",
                            fmt::format("{} arms: the reduced model treats one patient with "
                                        "one protocol",
                                        cohort.arms.size()),
                            "a [protocol] table");
  }
  const mnsim::protocol::ReducedProtocol& pr = cohort.arms.front().protocol;
  return released([&] {
    const auto model = mnsim::protocol::ReducedModel::load_default();
    nlohmann::ordered_json j = outcome_json(model.simulate(patient.spec, pr));
    j["protocol"] = pr.describe();
    return j.dump();
  });
}

/// `mnsim sweep`: writes OUT/sweep.csv (and OUT/runs with keep_runs).
py::dict run_sweep(const std::string& path, const std::optional<std::string>& text,
                   const std::string& out, int jobs, int threads, bool force, bool resume) {
  const Table root = parse_input(path, text, mnsim::sweep_schema(), "a TOML sweep file", {});
  const mnsim::SweepSpec spec = released([&] { return mnsim::read_sweep(root, path); });
  const mnsim::SweepResult r = interruptible<mnsim::SweepResult>([&](const mnsim::StopToken* stop) {
    mnsim::SweepOptions o;
    o.out_dir = out;
    o.jobs = jobs;
    o.threads = threads;
    o.force = force;
    o.resume = resume;
    o.stop = stop;
    return mnsim::run_sweep(spec, o);
  });
  py::dict d;
  d["points"] = r.points;
  d["resumed"] = r.resumed;
  d["failed"] = r.failed;
  d["csv"] = r.csv.string();
  return d;
}

py::dict field_units() {
  py::dict d;
  for (const auto& f : mnsim::healing::healing_model().fields()) d[py::str(f.name)] = f.unit;
  return d;
}

}  // namespace

PYBIND11_MODULE(_mnsim, m) {
  m.doc() = "mnsim's library, for the Python package mnsim (docs/python.md)";

  // Library log lines (warnings such as needles past the dermis) on stderr, as the CLI prints
  // them; info lines only when asked (set_log_level).
  if (!spdlog::get("mnsim")) {
    auto logger = spdlog::stderr_color_mt("mnsim");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("[%H:%M:%S] %v");
    spdlog::set_level(spdlog::level::warn);
  }

  // Library errors as the package's exception classes (mnsim/_errors.py), imported when raised
  // (the package imports this module first).
  py::register_exception_translator([](std::exception_ptr p) {
    auto raise = [](const char* cls, py::object value) {
      py::object type = py::module_::import("mnsim._errors").attr(cls);
      PyErr_SetObject(type.ptr(), type(*value).ptr());
    };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mnsim::InputError& e) {
      raise("InputError", py::make_tuple(e.line(), e.loc().file, e.loc().line, e.loc().col, e.key(),
                                         e.problem(), e.expected()));
    } catch (const mnsim::NumericalError& e) {
      raise("NumericalError", py::make_tuple(std::string(e.what())));
    } catch (const mnsim::OutputError& e) {
      raise("OutputError", py::make_tuple(std::string(e.what())));
    }
  });

  m.def("version", [] { return mnsim::version(); });
  m.def("git_commit", [] { return mnsim::git_commit(); });
  m.def("build_type", [] { return mnsim::build_type(); });
  m.def("data_dir", [] { return mnsim::data_dir().string(); });
  m.def("field_units", &field_units, "Unit of every healing field (working units).");
  m.def("set_log_level", [](const std::string& level) {
    const auto l = spdlog::level::from_str(level);
    if (l == spdlog::level::off && level != "off") {
      throw py::value_error("log level: one of trace, debug, info, warn, error, off");
    }
    spdlog::set_level(l);
  });
  m.def("parse_override", [](const std::string& text) {
    const Override o = mnsim::parse_override(text);
    return std::make_pair(o.key, o.value);
  });
  m.def("run_scenario", &run_scenario, py::arg("path"), py::arg("text"), py::arg("overrides"),
        py::arg("out"), py::arg("threads"), py::arg("seed"), py::arg("force"), py::arg("resume"),
        py::arg("checkpoint_every"));
  m.def("check_scenario", &check_scenario, py::arg("path"), py::arg("text"), py::arg("overrides"),
        py::arg("seed"));
  m.def("run_cohort", &run_cohort, py::arg("path"), py::arg("text"), py::arg("overrides"),
        py::arg("out"), py::arg("threads"), py::arg("force"), py::arg("resume"));
  m.def("plan", &plan, py::arg("path"), py::arg("text"), py::arg("overrides"), py::arg("threads"),
        py::arg("start_date"));
  m.def("reduced", &reduced, py::arg("patient_path"), py::arg("patient_text"),
        py::arg("patient_overrides"), py::arg("protocol_path"), py::arg("protocol_text"),
        py::arg("protocol_overrides"));
  m.def("run_sweep", &run_sweep, py::arg("path"), py::arg("text"), py::arg("out"), py::arg("jobs"),
        py::arg("threads"), py::arg("force"), py::arg("resume"));
}
