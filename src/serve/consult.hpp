// A consultation of `mnsim serve` (docs/serve.md): the form of the web app as a JSON object, read
// through the planner's schema (so every field meets the messages of a planner file), run with
// the reduced model (protocol::make_plan for "plan for me", protocol::assess_protocol for a
// given device and protocol), and returned as the JSON the page shows, the printable page
// (report::plan_html) and a scenario for a full 3D run (protocol::plan_scenario).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/progress.hpp"
#include "core/schema.hpp"
#include "protocol/plan.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::serve {

/// What the server accepts on top of the planner schema's own ranges: bounds on the cost of one
/// consultation (the search's size), so that a request cannot occupy the server for long.
struct ConsultLimits {
  int max_replicates = 50;
  int max_top = 20;
  int max_expand = 10;
  std::size_t max_map_pixels = 1024 * 1024;  // an uploaded height map's pixels (or CSV values)
};

/// A height map uploaded with the request (16-bit grayscale PNG or CSV), kept in memory: never
/// written to a file. The file name the client gave only chooses the reader (".png": PNG,
/// ".csv"/".txt": CSV, else by the PNG signature); it never names a file here.
struct HeightMapUpload {
  std::string bytes;
  std::string filename;
};

/// The request: a planner patient file's keys (title, seed, [patient], [[scars]], [inventory],
/// [constraints], [search]), plus `mode` ("plan": search every catalog device; "protocol": the
/// course in [protocol], a cohort file's [protocol] keys), `start_date` (dates the calendar) and
/// [surface] (pixel_size, height_scale: a scenario's [surface] keys but the file) for an uploaded
/// height map.
const schema::Key& consult_schema();

struct Consultation {
  std::string mode = "plan";
  protocol::PlanPatient patient;
  protocol::ReducedProtocol protocol;  // mode "protocol"
  std::string start_date;              // ISO date or empty
  // An uploaded height map: its bytes (empty: none), the file name the exported scenario gives
  // it, and its [surface]. Its measured surface is the patient's first scar.
  std::string heightmap;
  protocol::SurfaceExport surface;
  std::vector<double> surface_profile;  // m: its depression across the row of its deepest point
};

/// Reads a request body (JSON text). Every mistake is an InputError located at "request" and
/// the key ("request: patient.age: ... (expected)"): text that is not JSON, a value that is not
/// an object, null values, nesting deeper than 8, and whatever the schema refuses (unknown
/// keys, types, units, ranges, choices) with the schema's own words; the cost bounds of `limits`.
/// An `upload` is read by the scenario's height-map readers (lesions/heightmap.hpp; their
/// messages at "uploaded height map:LINE:COL" and the key "heightmap") and made the measured
/// surface a scenario's [surface] makes (lesions::measured_surface), the patient's first scar.
Consultation read_consultation(const std::string& body, const ConsultLimits& limits = {},
                               const HeightMapUpload* upload = nullptr);

/// What a consultation returns.
struct ConsultResult {
  std::string json;      // what the page shows (docs/serve.md, "Result")
  std::string html;      // the printable page (report::plan_html)
  std::string scenario;  // the recommended protocol as a scenario for `mnsim run`; empty if none
  std::string scenario_note;  // why there is no scenario, when there is none
  bool heightmap = false;     // the scenario needs the uploaded height map beside it
};

/// Runs a consultation. `progress` hears the planner's stages; `stop` as for make_plan (throws
/// Interrupted when requested).
ConsultResult run_consultation(const protocol::ReducedModel& m, const Consultation& c,
                               int threads = 0, Progress* progress = nullptr,
                               const StopToken* stop = nullptr);

}  // namespace mnsim::serve
