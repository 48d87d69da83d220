// The HTML report and its figures: everything a run shows a person. The run pipeline fills a
// ReportData in memory; write_report() turns it into DIR/report.html (one self-contained file,
// works offline: a consultation part in plain words first, the technical sections after) and
// DIR/figures/*.png and *.svg. No physics here: only presentation.
#pragma once

#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnsim::report {

/// A regular 2-D map (x fastest): puncture density, a depth cross-section, ...
/// Cell (i, j) covers [x0 + i dx, x0 + (i+1) dx] x [y0 + j dy, y0 + (j+1) dy]; NaN = no value.
struct Map2D {
  int nx = 0, ny = 0;
  double x0 = 0, y0 = 0, dx = 1, dy = 1;  // axis origin and spacing in the axis units
  std::string x_label, y_label;           // e.g. "x (mm)", "depth (µm)"
  std::string value_label;                // e.g. "punctures per cm²"
  bool y_down = false;                    // depth axes grow downward
  std::vector<float> v;                   // nx * ny
  /// Optional: a dashed line over the map at y = outline[i] across column i (nx values, NaN: no
  /// point), e.g. the skin surface before the course drawn over the map after it.
  std::vector<double> outline;
};

/// One time course: a quantity in one layer (or whole patch / one scar). Panels are titled by
/// `quantity` and their value axis labelled by `unit`: both are shown as written, so they are
/// words ("Inflammatory signal (relative)", "relative level"), not field names.
struct Series {
  std::string quantity;  // e.g. "Collagen I"
  std::string layer;     // e.g. "papillary dermis", or "" for whole-patch/scar quantities
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

/// One visit of the session calendar.
struct CalendarEntry {
  int session = 0;   // 1-based; 0 for the outcome assessment (end of follow-up)
  std::string date;  // ISO date; empty when the course has no start date (weeks are shown)
  double day = 0;    // days since the first session (shown as whole days)
  std::string what;  // e.g. "Microneedling, 16 passes (about 3000 punctures per cm²)"
};

/// One scar of the consultation's outcome table.
struct ScarChange {
  std::string what;  // plain words, e.g. "Boxcar scar (punched-out), 2.5 mm wide"
  double before_um = std::numeric_limits<double>::quiet_NaN();  // depth below surrounding skin
  double after_um = std::numeric_limits<double>::quiet_NaN();
};

/// One row of the consultation's band table: an outcome with its two 10-90% ranges, already
/// formatted ("31 % to 48 %").
struct BandRow {
  std::string what;         // plain words, e.g. "Scars shallower by"
  std::string point;        // this simulation's value
  std::string parameter;    // range from the model's uncertain fitted values
  std::string variability;  // range over patients who heal faster or slower
};

/// The consultation part: what a patient and a clinician read first, in plain words. Numbers are
/// in the report's units (µm, days, h; fractions 0..1); NaN or -1 means "not known" and the
/// sentence is left out.
struct Consultation {
  /// Sentences: who was treated where, with which device, what was done (plain text).
  std::vector<std::string> summary;
  std::vector<ScarChange> scars;  // each simulated scar, depth before and after
  std::string scars_note;         // how the depths were obtained (one sentence, may be empty)
  /// Goodman & Baron: qualitative grade (0 none, 1 macular .. 4 severe) and quantitative score.
  int grade_before = -1, grade_after = -1, score_before = -1, score_after = -1;
  std::string graded_on;  // e.g. "the patient's whole face (24 scars)"
  /// The quantitative score row by row ("moderately atrophic (2 points): 4 -> 3 scars, 2 -> 2
  /// points") and why it moved (plain sentences; says when a rise comes from milder scars).
  std::vector<std::string> score_rows;
  std::string score_note;
  double erythema_days = std::numeric_limits<double>::quiet_NaN();  // visible redness/session
  double barrier_hours = std::numeric_limits<double>::quiet_NaN();  // barrier recovery/session
  int fitzpatrick = 0;                                              // skin type 1..6; 0 unknown
  double pih_risk = std::numeric_limits<double>::quiet_NaN();       // 0..1
  double pih_limit = std::numeric_limits<double>::quiet_NaN();      // accepted for this skin type
  double depth_reached_um = std::numeric_limits<double>::quiet_NaN();      // mean, first session
  double dermis_bottom_um = std::numeric_limits<double>::quiet_NaN();      // dermis ends (site)
  double past_dermis_fraction = std::numeric_limits<double>::quiet_NaN();  // punctures past it
  /// What is known of the spread of the prediction (plain sentences). Empty: the report says
  /// that no uncertainty band was computed (it never invents one).
  std::vector<std::string> uncertainty;
  /// The predictive bands as a table under the sentences (empty: no table).
  std::vector<BandRow> bands;
};

struct ReportData {
  std::string title;                  // from the scenario: untrusted text, must be HTML-escaped
  std::vector<std::string> warnings;  // safety callouts shown first (plain text)
  Consultation consultation;          // the consultation part (first)
  std::vector<std::string> scenario_in_words;  // technical: patch, grid, device details, grading
  /// Technical: grid and numerics as label / value rows (e.g. "Grid", "100 x 100 x 38 cells").
  std::vector<std::pair<std::string, std::string>> numerics;
  std::string scenario_toml;           // the fully resolved scenario (shown in a details block)
  std::string run_metadata;            // JSON text (version, commit, seed, threads, times)
  Map2D puncture_density;              // punctures per cm² on a 1 mm grid (one session)
  std::vector<double> depth_edges_um;  // histogram bin edges of depth reached
  std::vector<double> depth_counts;    // punctures per bin
  std::vector<Series> series;          // time courses of the main fields by layer
  std::vector<double> session_days;    // markers on time-course plots
  Map2D cross_section_before, cross_section_after;  // collagen (I+III) in an x-depth plane
  std::string cross_section_where;  // where the plane lies, e.g. "at y = 3.0 mm, across 2 scars"
  std::vector<ScarProfile> scars;
  std::vector<OutcomeRow> outcomes;
  std::vector<CalendarEntry> calendar;  // empty: no calendar section
};

/// Writes DIR/report.html and DIR/figures/NAME.png and NAME.svg (atomically, file by file).
/// Throws OutputError. Creates DIR and DIR/figures if missing. Figures: scar_profiles,
/// puncture_density, depth_histogram, time_courses, cross_section; one without data is left out
/// (and a stale one from an earlier report in DIR removed). Non-finite values are skipped.
/// Inconsistent sizes (a map's v.size() != nx * ny or a non-empty outline of another size than
/// nx, depth edges != counts + 1 or not increasing, a series with t_days.size() !=
/// value.size(), a scar profile whose non-empty before/after differ in length from x_mm) are
/// caller bugs: std::invalid_argument, nothing written.
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
