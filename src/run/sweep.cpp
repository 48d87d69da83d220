#include "run/sweep.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/toml_file.hpp"
#include "run/checkpoint.hpp"
#include "run/run.hpp"
#include "run/scenario_schema.hpp"

namespace mnsim {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPoints = 10000;
constexpr std::size_t kMaxAxes = 16;

/// A value as a person reads it: strings without their quotes.
std::string display(const std::string& toml_text) {
  if (toml_text.empty() || toml_text.front() != '"') return toml_text;
  const nlohmann::json j = nlohmann::json::parse(toml_text, nullptr, false);
  return j.is_string() ? j.get<std::string>() : toml_text;
}

std::string point_name(std::size_t i) {
  return fmt::format("{:04}", i + 1);
}

/// "device.depth = 1 mm, course.sessions = 3"
std::string describe(const SweepSpec& s, std::size_t i) {
  std::string out;
  for (std::size_t a = 0; a < s.axes.size(); ++a) {
    out += fmt::format("{}{} = {}", out.empty() ? "" : ", ", s.axes[a].key,
                       display(s.axes[a].values[s.points[i][a]]));
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_value(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return fmt::format("{}", v.get<long long>());
  if (v.is_number_unsigned()) return fmt::format("{}", v.get<unsigned long long>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  return csv_field(v.dump());
}

void flatten(const nlohmann::json& x, const std::string& path, nlohmann::ordered_json& out) {
  if (x.is_object()) {
    for (const auto& [k, v] : x.items()) flatten(v, path.empty() ? k : path + "." + k, out);
  } else if (x.is_array()) {
    for (std::size_t i = 0; i < x.size(); ++i) flatten(x[i], fmt::format("{}[{}]", path, i), out);
  } else {
    out[path] = x;
  }
}

/// What the checkpoint of a sweep is keyed by: the resolved sweep file and the resolved base
/// scenario (a changed scenario file is another sweep).
std::string manifest_text(const SweepSpec& s) {
  return fmt::format("# mnsim sweep {}\n{}\n# base scenario {}, resolved:\n{}", s.file, s.resolved,
                     s.scenario, load_scenario(s.scenario).to_toml());
}

}  // namespace

std::vector<Override> run_overrides(const SweepSpec& s, std::size_t i) {
  std::vector<Override> out = s.overrides(i);
  if (s.keep_runs) return out;
  // The run folder is removed once its row is recorded: the files the row does not read are not
  // written (the results do not depend on which files a run writes), unless an axis sets them.
  for (const char* key :
       {"output.report", "output.timeseries", "output.scars", "output.punctures"}) {
    const bool swept =
        std::any_of(s.axes.begin(), s.axes.end(), [&](const SweepAxis& a) { return a.key == key; });
    if (!swept) out.insert(out.begin(), Override{key, "false"});
  }
  return out;
}

std::vector<Override> SweepSpec::overrides(std::size_t i) const {
  std::vector<Override> out;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    out.push_back({axes[a].key, axes[a].values[points[i][a]]});
  }
  return out;
}

const schema::Key& sweep_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key r = table("", "a parameter sweep", {}, true);
    r.children = {
        string("title", "", "Title."),
        string("scenario", "",
               "The base scenario file (relative to this file): every point runs it with the "
               "axes' values set, as `mnsim run --set KEY=VALUE` would")
            .path()
            .must(),
        enumeration("mode", {"grid", "zip"}, "grid",
                    "grid: every combination of the axes' values (the last axis varies fastest); "
                    "zip: the first values of every axis together, then the second... (axes of "
                    "equal length)"),
        boolean("keep_runs", "false",
                "Keep each point's run folder (OUT/runs/NNNN: summary.json, timeseries.csv, "
                "fields, report); false: only sweep.csv"),
        table_array(
            "axis", "One swept scenario key.",
            {string("key", "",
                    "A scenario key as for --set: device.depth, course.sessions, "
                    "lesions[0].depth, seed")
                 .must(),
             value_list("values",
                        "The values the key takes, each as it would be written in the scenario "
                        "(\"1.5 mm\", 3, true)")
                 .must()},
            kMaxAxes)
            .must(),
    };
    return r;
  }();
  return root;
}

SweepSpec load_sweep(const std::string& path) {
  return read_sweep(io::load_toml_file(path, sweep_schema(), "a TOML sweep file"), path);
}

SweepSpec read_sweep(const Table& root, const std::string& path) {
  SweepSpec s;
  s.file = path;
  s.resolved = root.to_toml();
  if (root.has("title")) s.title = root.str("title");
  {
    fs::path p(root.str("scenario"));
    if (p.is_relative()) p = fs::path(path).parent_path() / p;
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec);
    s.scenario = (ec ? p : abs).lexically_normal().string();
  }
  s.grid = root.str("mode") == "grid";
  s.keep_runs = root.flag("keep_runs");
  std::set<std::string> keys;
  for (const Table& t : root.tables("axis")) {
    SweepAxis a;
    a.key = t.str("key");
    a.key_loc = t.loc_of("key");
    if (!keys.insert(a.key).second) {
      throw InputError(a.key_loc, t.key_path("key"), fmt::format("'{}' is swept twice", a.key),
                       "each key on one axis");
    }
    const Value& v = t.value("values");
    a.values = v.list;
    a.value_locs = v.item_locs;
    s.axes.push_back(std::move(a));
  }
  const std::vector<Table>& tabs = root.tables("axis");
  if (s.grid) {
    std::size_t n = 1;
    for (const SweepAxis& a : s.axes) {
      n *= a.values.size();
      if (n > kMaxPoints) {
        throw InputError(root.loc_of("axis"), "axis",
                         fmt::format("more than {} points in the grid", kMaxPoints),
                         "fewer values, or mode = \"zip\"");
      }
    }
    s.points.assign(n, std::vector<std::size_t>(s.axes.size(), 0));
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t r = i;
      for (std::size_t a = s.axes.size(); a-- > 0;) {
        s.points[i][a] = r % s.axes[a].values.size();
        r /= s.axes[a].values.size();
      }
    }
  } else {
    const std::size_t n = s.axes.front().values.size();
    for (std::size_t a = 1; a < s.axes.size(); ++a) {
      if (s.axes[a].values.size() != n) {
        throw InputError(
            tabs[a].loc_of("values"), tabs[a].key_path("values"),
            fmt::format("{} values, but the first axis has {}", s.axes[a].values.size(), n),
            "mode = \"zip\" takes the i-th values of every axis together: as many "
            "values on every axis");
      }
    }
    for (std::size_t i = 0; i < n; ++i) s.points.emplace_back(s.axes.size(), i);
  }
  // Every point's scenario is checked before anything runs. A message about a swept key is
  // placed at that value in the sweep file; one about the base scenario stays where it is.
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    try {
      const Table sc = load_scenario(s.scenario, s.overrides(i));
      (void)validate_semantics(sc);
    } catch (const InputError& e) {
      SourceLoc loc = e.loc();
      for (std::size_t a = 0; a < s.axes.size(); ++a) {
        if (e.loc().file == "--set " + s.axes[a].key) {
          loc = s.axes[a].value_locs[s.points[i][a]];
        }
      }
      throw InputError(loc, e.key(),
                       fmt::format("point {} ({}): {}", i + 1, describe(s, i), e.problem()),
                       e.expected());
    }
  }
  return s;
}

nlohmann::ordered_json sweep_row(const nlohmann::json& summary) {
  nlohmann::ordered_json row = nlohmann::ordered_json::object();
  if (summary.contains("outcome")) flatten(summary["outcome"], "outcome", row);
  if (summary.contains("sessions")) flatten(summary["sessions"], "sessions", row);
  if (summary.contains("run") && summary["run"].contains("wall_time_s")) {
    row["run.wall_time_s"] = summary["run"]["wall_time_s"];
  }
  return row;
}

std::string sweep_csv(const SweepSpec& spec, const std::vector<nlohmann::ordered_json>& records) {
  std::vector<std::string> cols;
  std::set<std::string> seen;
  for (const auto& r : records) {
    if (!r.contains("row")) continue;
    for (const auto& [k, v] : r["row"].items()) {
      if (seen.insert(k).second) cols.push_back(k);
    }
  }
  std::string out = "point,status";
  for (const SweepAxis& a : spec.axes) out.append(",").append(csv_field(a.key));
  for (const auto& c : cols) out.append(",").append(csv_field(c));
  out += "\n";
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    out += fmt::format("{},{}", i + 1, csv_value(r.value("status", std::string("missing"))));
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      out.append(",").append(csv_field(display(spec.axes[a].values[spec.points[i][a]])));
    }
    const nlohmann::ordered_json row =
        r.contains("row") ? r["row"] : nlohmann::ordered_json::object();
    for (const auto& c : cols) {
      out += ",";
      if (row.contains(c)) out += csv_value(row[c]);
    }
    out += "\n";
  }
  return out;
}

SweepResult run_sweep(const SweepSpec& spec, const SweepOptions& o) {
  const std::string manifest = manifest_text(spec);
  const std::uint64_t key = run_checkpoint_key(manifest);
  io::OutputFolder folder = io::OutputFolder::open(o.out_dir, o.force, "mnsim sweep " + spec.file);
  const fs::path ck = folder.checkpoints();
  const fs::path manifest_file = ck / "sweep.resolved.toml";
  std::error_code ec;
  const bool exists = fs::exists(manifest_file, ec);
  bool keep = false;
  if (exists && o.resume) {
    const std::string had =
        io::read_text_file(manifest_file, std::size_t{16} << 20, "a sweep checkpoint manifest");
    if (had != manifest) {
      throw InputError({"command line", 0, 0}, "--resume",
                       fmt::format("the checkpoint in '{}' was written for another sweep file or "
                                   "base scenario",
                                   o.out_dir.string()),
                       "the same sweep file and scenario, or --force to start over");
    }
    keep = true;
  } else if (exists && !o.force) {
    throw InputError(
        {"command line", 0, 0}, "--out",
        fmt::format("'{}' holds the checkpoint of an unfinished sweep", o.out_dir.string()),
        "--resume to continue it, or --force to start over");
  }
  const fs::path points_dir = ck / "points", runs_dir = ck / "runs";
  if (!keep) {
    fs::remove_all(ck, ec);
    fs::create_directories(points_dir, ec);
    fs::create_directories(runs_dir, ec);
    if (ec) throw OutputError(fmt::format("cannot create {}: {}", ck.string(), ec.message()));
    io::write_file_atomic(manifest_file, manifest);
  }
  io::remove_stale_temporaries(points_dir);

  const std::size_t n = spec.points.size();
  SweepResult res;
  res.points = n;
  std::vector<nlohmann::ordered_json> records(n);
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < n; ++i) {
    const fs::path f = points_dir / (point_name(i) + ".json");
    std::optional<nlohmann::ordered_json> rec;
    if (keep && fs::exists(f, ec)) {
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(
          io::read_text_file(f, std::size_t{64} << 20, "a sweep point record"), nullptr, false);
      if (!j.is_discarded() && j.value("point", 0) == static_cast<int>(i + 1)) rec = std::move(j);
    }
    if (rec) {
      records[i] = std::move(*rec);
      ++res.resumed;
    } else {
      pending.push_back(i);
    }
  }

  const int jobs =
      std::max(1, std::min(o.jobs, static_cast<int>(std::max<std::size_t>(1, pending.size()))));
  const int all_threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  const int per_job = std::max(1, all_threads / jobs);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t done = res.resumed;
  std::exception_ptr stop_error;
  auto stopped = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<bool>(stop_error) || (o.stop && o.stop->requested() != 0);
  };
  auto run_point = [&](std::size_t i) {
    nlohmann::ordered_json rec;
    rec["point"] = i + 1;
    nlohmann::ordered_json set = nlohmann::ordered_json::array();
    for (const Override& ov : spec.overrides(i))
      set.push_back({{"key", ov.key}, {"value", ov.value}});
    rec["set"] = set;
    const fs::path dir = runs_dir / point_name(i);
    try {
      RunOptions ro;
      ro.out_dir = dir;
      ro.threads = per_job;
      ro.resume = true;  // a point interrupted before continues from its own checkpoint
      ro.stop = o.stop;
      const RunResult r = run_scenario(load_scenario(spec.scenario, run_overrides(spec, i)), ro);
      rec["status"] = "ok";
      rec["row"] = sweep_row(r.summary);
    } catch (const NumericalError& e) {
      rec["status"] = fmt::format("failed: {}", e.what());
    } catch (const InputError& e) {
      rec["status"] = fmt::format("failed: {}", e.line());
    } catch (...) {  // Interrupted, OutputError (a full disk...): the sweep stops
      std::lock_guard<std::mutex> lock(mu);
      if (!stop_error) stop_error = std::current_exception();
      return;
    }
    io::write_file_atomic(points_dir / (point_name(i) + ".json"), rec.dump());
    if (!spec.keep_runs) fs::remove_all(dir, ec);
    std::lock_guard<std::mutex> lock(mu);
    records[i] = std::move(rec);
    ++done;
    if (o.on_point) o.on_point(done, n);
  };
  auto worker = [&] {
    for (std::size_t k; !stopped() && (k = next.fetch_add(1)) < pending.size();) {
      run_point(pending[k]);
    }
  };
  if (jobs == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (stop_error) std::rethrow_exception(stop_error);
  if (o.stop && o.stop->requested() != 0) {
    throw Interrupted(o.stop->requested(), fmt::format("{} of {} points done", done, n));
  }

  for (std::size_t i = 0; i < n; ++i) {
    const std::string st = records[i].value("status", std::string());
    if (st != "ok")
      res.failed.push_back(fmt::format("point {} ({}): {}", i + 1, describe(spec, i), st));
  }
  io::write_file_atomic(folder.staging() / "sweep.csv", sweep_csv(spec, records));
  io::write_file_atomic(folder.staging() / "sweep.resolved.toml", manifest);
  std::vector<std::string> entries{"sweep.csv", "sweep.resolved.toml"};
  if (spec.keep_runs) {
    fs::rename(runs_dir, folder.staging() / "runs", ec);
    if (ec) {
      throw OutputError(
          fmt::format("cannot move {} into place: {}", runs_dir.string(), ec.message()));
    }
    entries.push_back("runs");
  }
  folder.commit(entries, key);
  res.csv = o.out_dir / "sweep.csv";
  return res;
}

}  // namespace mnsim
