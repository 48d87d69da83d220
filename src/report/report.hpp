// The HTML report and its figures: everything a run shows a person. The run pipeline fills a
// ReportData in memory; write_report() turns it into DIR/report.html (one self-contained file,
// works offline) and DIR/figures/*.png. No physics here: only presentation.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mnsim::report {

/// A regular 2-D map (x fastest): puncture density, a depth cross-section, ...
/// Cell (i, j) covers [x0 + i dx, x0 + (i+1) dx] x [y0 + j dy, y0 + (j+1) dy]; NaN = no value.
struct Map2D {
  int nx = 0, ny = 0;
  double x0 = 0, y0 = 0, dx = 1, dy = 1;  // axis origin and spacing in the axis units
  std::string x_label, y_label;           // e.g. "x (mm)", "depth (um)"
  std::string value_label;                // e.g. "punctures per cm^2"
  bool y_down = false;                    // depth axes grow downward
  std::vector<float> v;                   // nx * ny
};

/// One time course: a quantity in one layer (or whole patch / one scar).
struct Series {
  std::string quantity;  // e.g. "collagen1"
  std::string layer;     // e.g. "papillary_dermis", or "" for whole-patch/scar quantities
  std::string unit;      // e.g. "mg/mL"
  std::vector<double> t_days, value;
};

/// A scar's surface profile across its centre, before and after the course.
struct ScarProfile {
  std::string label;  // e.g. "boxcar #2 at (3.0, 4.5) mm"
  std::string kind;
  std::vector<double> x_mm;       // position across the scar
  std::vector<double> before_um;  // surface depth below the surrounding skin (positive down)
  std::vector<double> after_um;
};

/// One row of the outcome table.
struct OutcomeRow {
  std::string measure;  // e.g. "Goodman & Baron quantitative score"
  std::string before;   // formatted value, or "" when not applicable
  std::string after;
  std::string note;  // e.g. "lower is better"
};

struct CalendarEntry {
  int session = 0;   // 1-based; 0 for follow-up visits
  std::string date;  // ISO date
  double day = 0;    // days since the first session
  std::string what;  // e.g. "session 2: roller 1.5 mm, 4 passes"
};

struct ReportData {
  std::string title;                  // from the scenario: untrusted text, must be HTML-escaped
  std::vector<std::string> warnings;  // safety callouts shown first (plain text)
  std::vector<std::string> scenario_in_words;  // sentences describing patient, device, course
  std::string scenario_toml;           // the fully resolved scenario (shown in a details block)
  std::string run_metadata;            // JSON text (version, commit, seed, threads, times)
  Map2D puncture_density;              // punctures per cm^2 on a 1 mm grid (one session)
  std::vector<double> depth_edges_um;  // histogram bin edges of depth reached
  std::vector<double> depth_counts;    // punctures per bin
  std::vector<Series> series;          // time courses of the main fields by layer
  std::vector<double> session_days;    // markers on time-course plots
  Map2D cross_section_before, cross_section_after;  // collagen (I+III) in an x-depth plane
  std::vector<ScarProfile> scars;
  std::vector<OutcomeRow> outcomes;
  std::vector<CalendarEntry> calendar;  // empty when the course has no start date
};

/// Writes DIR/report.html and DIR/figures/*.png (atomically, file by file). Throws OutputError.
/// Creates DIR and DIR/figures if missing. Figures: puncture_density, depth_histogram,
/// time_courses, cross_section, scar_profiles (.png); one without data is left out (and a stale
/// one from an earlier report in DIR removed). Non-finite values are skipped. Inconsistent sizes
/// (a map's v.size() != nx * ny, depth edges != counts + 1 or not increasing, a series with
/// t_days.size() != value.size(), a scar profile whose non-empty before/after differ in length
/// from x_mm) are caller bugs: std::invalid_argument, nothing written.
void write_report(const ReportData& data, const std::filesystem::path& dir);

/// Escapes text for HTML element content and attribute values (& < > " ') after replacing
/// invalid UTF-8 and NUL bytes by '?'.
std::string html_escape(std::string_view s);

/// The start of a self-contained page, up to and including <body>: doctype, charset, viewport, a
/// Content-Security-Policy that loads nothing (inline styles and data: images only), the
/// `title` (plain text, escaped here) and the report's style sheet followed by `extra_css`
/// (trusted CSS). The run report and the planner's page (report/plan_page.hpp) share it.
std::string html_page_start(std::string_view title, std::string_view extra_css = {});

/// Standard base64 (RFC 4648, with padding).
std::string base64(std::string_view bytes);

}  // namespace mnsim::report
