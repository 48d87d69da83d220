#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "core/error.hpp"
#include "core/version.hpp"
#include "io/files.hpp"
#include "report/plot.hpp"
#include "report/words.hpp"

namespace mnsim::report {

namespace fs = std::filesystem;
using plot::Axis;
using plot::Figure;
using plot::HAlign;
using plot::Panel;
using plot::Rgb;
using plot::VAlign;

std::string html_escape(std::string_view s) {
  const std::string t = plot::sanitize_utf8(s);
  std::string out;
  out.reserve(t.size() + t.size() / 8);
  for (char c : t) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    const bool two = i + 1 < bytes.size();
    if (two) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += two ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

constexpr Rgb kMarker{0.45, 0.45, 0.45};
constexpr Rgb kBefore{0.35, 0.35, 0.35};
constexpr Rgb kOutline{1.0, 1.0, 1.0};
constexpr std::size_t kMaxScarPanels = 12;

// The figures a report can contain, in the order they appear.
const std::vector<std::string>& figure_names() {
  static const std::vector<std::string> names = {
      "scar_profiles", "puncture_density", "depth_histogram", "time_courses", "cross_section"};
  return names;
}

struct Fig {
  std::string name;     // file stem under figures/
  std::string alt;      // plain text, escaped when written: what it shows, its panels and axes
  std::string caption;  // plain text, escaped when written
  double w = 0, h = 0;  // logical size (CSS px)
  std::string png, svg;
};

// "Panels: A (x axis; y axis). B (...)." for alt texts: every title and axis of a figure in words.
std::string panels_text(const std::vector<Panel>& panels) {
  std::string s;
  for (const Panel& p : panels) {
    s += s.empty() ? " Panels: " : " ";
    s += p.title.empty() ? std::string("untitled") : p.title;
    s += " (" + p.xa.label + "; " + p.ya.label + ").";
  }
  return s;
}

Fig make_fig(std::string name, std::string alt, std::string caption, const Figure& f) {
  return Fig{std::move(name), std::move(alt), std::move(caption), f.width(), f.height(),
             f.png(),         f.svg()};
}

struct Span {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  double min_pos = std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (v > 0) min_pos = std::min(min_pos, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// ---- input checks (contract violations by the caller) ----

void check_map(const Map2D& m, const char* what) {
  if (m.nx < 0 || m.ny < 0 ||
      m.v.size() != static_cast<std::size_t>(m.nx) * static_cast<std::size_t>(m.ny))
    throw std::invalid_argument(
        fmt::format("report: {} has {} values for a {} x {} grid", what, m.v.size(), m.nx, m.ny));
  if (!m.v.empty() && !(std::isfinite(m.dx) && std::isfinite(m.dy) && m.dx > 0 && m.dy > 0 &&
                        std::isfinite(m.x0) && std::isfinite(m.y0)))
    throw std::invalid_argument(fmt::format("report: {} needs finite origin and dx, dy > 0", what));
  if (!m.outline.empty() && m.outline.size() != static_cast<std::size_t>(m.nx))
    throw std::invalid_argument(fmt::format("report: {} has an outline of {} points for {} columns",
                                            what, m.outline.size(), m.nx));
}

void check(const ReportData& d) {
  check_map(d.puncture_density, "puncture_density");
  check_map(d.cross_section_before, "cross_section_before");
  check_map(d.cross_section_after, "cross_section_after");
  if (!(d.depth_edges_um.empty() && d.depth_counts.empty())) {
    if (d.depth_edges_um.size() != d.depth_counts.size() + 1)
      throw std::invalid_argument(fmt::format("report: {} depth bin edges for {} counts",
                                              d.depth_edges_um.size(), d.depth_counts.size()));
    for (std::size_t i = 0; i + 1 < d.depth_edges_um.size(); ++i)
      if (!(d.depth_edges_um[i] < d.depth_edges_um[i + 1]))
        throw std::invalid_argument("report: depth bin edges must be finite and increasing");
  }
  for (const auto& s : d.series)
    if (s.t_days.size() != s.value.size())
      throw std::invalid_argument(fmt::format("report: series {}/{} has {} times and {} values",
                                              s.quantity, s.layer, s.t_days.size(),
                                              s.value.size()));
  for (const auto& s : d.scars)
    if ((!s.before_um.empty() && s.before_um.size() != s.x_mm.size()) ||
        (!s.after_um.empty() && s.after_um.size() != s.x_mm.size()))
      throw std::invalid_argument(
          fmt::format("report: scar profile '{}' has {} positions, {} before and {} after values",
                      s.label, s.x_mm.size(), s.before_um.size(), s.after_um.size()));
}

bool has_finite(const std::vector<float>& v) {
  return std::any_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
}

// Colour range of one or more maps; zero_based starts non-negative data at 0.
std::pair<double, double> colour_range(std::initializer_list<const Map2D*> maps, bool zero_based) {
  Span s;
  for (const Map2D* m : maps)
    for (float f : m->v) s.add(f);
  double lo = s.lo, hi = s.hi;
  if (zero_based && lo >= 0) lo = 0;
  if (!(hi > lo)) {
    const double pad = std::abs(hi) > 0 ? 0.1 * std::abs(hi) : 1.0;
    lo -= pad;
    hi += pad;
  }
  return {lo, hi};
}

Panel map_panel(const Map2D& m, double x, double y, double w, double h) {
  Panel p;
  p.x = x;
  p.y = y;
  p.w = w;
  p.h = h;
  p.xa = Axis{m.x0, m.x0 + m.nx * m.dx, false, false, m.x_label};
  p.ya = Axis{m.y0, m.y0 + m.ny * m.dy, false, m.y_down, m.y_label};
  return p;
}

// ---- figures ----

std::optional<Fig> density_figure(const Map2D& m) {
  if (m.v.empty() || !has_finite(m.v)) return std::nullopt;
  const double ex = m.nx * m.dx, ey = m.ny * m.dy;
  constexpr double maxw = 440, maxh = 380;
  double pw = maxw, ph = maxh;
  const double ratio = ex / ey;
  if (ratio > 0.25 && ratio < 4) {  // equal aspect when the map is not extreme
    const double s = std::min(maxw / ex, maxh / ey);
    pw = ex * s;
    ph = ey * s;
  }
  const double left = 72, top = 34, bottom = 56;
  Figure f(left + pw + 130, top + ph + bottom);
  const auto [lo, hi] = colour_range({&m}, true);
  Panel p = map_panel(m, left, top, pw, ph);
  p.title = "Puncture density (one session)";
  const bool nan = f.heatmap(p, m.nx, m.ny, m.x0, m.y0, m.dx, m.dy, m.v, lo, hi);
  f.axes(p);
  f.colourbar(left + pw + 18, top, 16, ph, lo, hi, m.value_label);
  std::string cap = "Punctures per unit area from one session, on the grid of the map";
  if (!m.value_label.empty()) cap += " (" + m.value_label + ")";
  cap += ".";
  if (nan) cap += " Grey cells have no value.";
  return make_fig(
      "puncture_density",
      "Heat map of puncture density." + panels_text({p}) + " Colour: " + m.value_label + ".", cap,
      f);
}

std::optional<Fig> histogram_figure(const std::vector<double>& edges,
                                    const std::vector<double>& counts) {
  if (counts.empty()) return std::nullopt;
  Span c;
  for (double v : counts) c.add(v);
  if (c.empty()) return std::nullopt;
  const double left = 72, top = 34, pw = 520, ph = 250, bottom = 56;
  Figure f(left + pw + 24, top + ph + bottom);
  Panel p;
  p.x = left;
  p.y = top;
  p.w = pw;
  p.h = ph;
  p.xa = Axis{edges.front(), edges.back(), false, false, "depth reached (\u00b5m)"};
  p.ya = Axis{0, std::max(c.hi, 0.0) > 0 ? c.hi * 1.08 : 1.0, false, false, "punctures (count)"};
  p.title = "Depth reached by the needles";
  f.bars(p, edges, counts, plot::viridis(0.35));
  f.axes(p);
  double total = 0;
  for (double v : counts)
    if (std::isfinite(v)) total += v;
  return make_fig("depth_histogram", "Histogram of depth reached." + panels_text({p}),
                  fmt::format("Depth reached by the needle tips, {:g} punctures in {} bins.", total,
                              counts.size()),
                  f);
}

std::optional<Fig> timecourse_figure(const std::vector<Series>& series,
                                     const std::vector<double>& sessions) {
  // Group by quantity and give each layer one style across all panels (first appearance order):
  // colour, dash pattern and markers differ from layer to layer, so coinciding lines stay visible.
  std::vector<std::string> quantities, layers;
  Span t;
  for (const auto& s : series) {
    bool any = false;
    for (std::size_t i = 0; i < s.value.size(); ++i)
      if (std::isfinite(s.t_days[i]) && std::isfinite(s.value[i])) {
        t.add(s.t_days[i]);
        any = true;
      }
    if (!any) continue;
    if (std::find(quantities.begin(), quantities.end(), s.quantity) == quantities.end())
      quantities.push_back(s.quantity);
    if (std::find(layers.begin(), layers.end(), s.layer) == layers.end()) layers.push_back(s.layer);
  }
  if (quantities.empty()) return std::nullopt;
  double tlo = t.lo, thi = t.hi;
  if (!(thi > tlo)) thi = tlo + 1;
  auto layer_name = [](const std::string& l) { return l.empty() ? std::string("whole patch") : l; };
  auto layer_index = [&](const std::string& l) {
    return static_cast<std::size_t>(std::find(layers.begin(), layers.end(), l) - layers.begin());
  };

  constexpr double W = 920, cols = 2, cellw = W / cols, pw = 350, ph = 190;
  constexpr double left = 72, top_gap = 30, bottom_gap = 58;
  // Legend rows (wrapped).
  Figure probe(10, 10, 1);
  std::vector<std::vector<std::pair<std::string, std::size_t>>> rows(1);
  double xcur = 20;
  auto place = [&](const std::string& name, std::size_t idx) {
    const double ew = 40 + probe.text_width(name, 12) + 18;
    if (xcur + ew > W - 10 && !rows.back().empty()) {
      rows.emplace_back();
      xcur = 20;
    }
    rows.back().emplace_back(name, idx);
    xcur += ew;
  };
  for (std::size_t i = 0; i < layers.size(); ++i) place(layer_name(layers[i]), i);
  const bool markers = !sessions.empty();
  if (markers) place("session", SIZE_MAX);
  const double legend_h = 10 + 22.0 * rows.size();
  const std::size_t nrows = (quantities.size() + 1) / 2;
  const double rowh = top_gap + ph + bottom_gap;
  Figure f(W, legend_h + nrows * rowh + 6);
  double ly = 16;
  for (const auto& row : rows) {
    double x = 20;
    for (const auto& [name, idx] : row) {
      if (idx == SIZE_MAX)
        x = f.legend_entry(x, ly, name, kMarker, true, 1.2);
      else
        x = f.legend_entry(x, ly, name, plot::series_style(idx));
    }
    ly += 22;
  }
  std::string logs;
  std::vector<Panel> panels;
  for (std::size_t q = 0; q < quantities.size(); ++q) {
    const double cx = (q % 2) * cellw, cy = legend_h + (q / 2) * rowh;
    Span v;
    std::string unit;
    for (const auto& s : series)
      if (s.quantity == quantities[q]) {
        for (double x : s.value) v.add(x);
        if (unit.empty()) unit = s.unit;
      }
    Panel p;
    p.x = cx + left;
    p.y = cy + top_gap;
    p.w = pw;
    p.h = ph;
    p.title = quantities[q];
    p.xa = Axis{tlo, thi, false, false, "time (days)"};
    // Log axis for non-negative data spanning two decades or more; its floor is at most six
    // decades below the peak (smaller values and zeros run off the bottom edge).
    const bool log = v.lo >= 0 && v.hi > 0 && v.hi / v.min_pos >= 100;
    if (log) {
      const double ymin = std::max(v.min_pos, v.hi * 1e-6);
      p.ya = Axis{std::pow(10.0, std::floor(std::log10(ymin) * 4) / 4),
                  std::pow(10.0, std::ceil(std::log10(v.hi) * 4) / 4), true, false,
                  unit + ", log scale"};
      if (!logs.empty()) logs += ", ";
      logs += quantities[q];
    } else {
      double lo = v.lo, hi = v.hi;
      if (lo >= 0 && lo <= 0.3 * hi) lo = 0;
      const double pad = hi > lo ? 0.06 * (hi - lo) : (std::abs(hi) > 0 ? 0.1 * std::abs(hi) : 1);
      p.ya = Axis{lo == 0 ? 0 : lo - pad, hi + pad, false, false, unit};
    }
    for (double s : sessions) f.vmarker(p, s, kMarker);
    for (const auto& s : series)
      if (s.quantity == quantities[q])
        f.line(p, s.t_days, s.value, plot::series_style(layer_index(s.layer)));
    f.axes(p);
    panels.push_back(p);
  }
  std::string cap = "Time courses by layer; each layer has its own colour, line pattern and marker";
  if (markers) cap += "; dashed grey lines mark the sessions";
  cap += ".";
  if (!logs.empty())
    cap += " Logarithmic value axis for: " + logs +
           " (values far below the peak run off the "
           "bottom edge).";
  return make_fig("time_courses", "Time courses of the main fields by layer." + panels_text(panels),
                  cap, f);
}

std::optional<Fig> cross_section_figure(const Map2D& before, const Map2D& after,
                                        const std::string& where) {
  const bool hb = !before.v.empty() && has_finite(before.v);
  const bool ha = !after.v.empty() && has_finite(after.v);
  if (!hb && !ha) return std::nullopt;
  const auto [lo, hi] = colour_range({&before, &after}, false);
  const double left = 72, top = 34, pw = 330, ph = 240, gap = 86, bottom = 56;
  Figure f(left + pw + gap + pw + 130, top + ph + bottom);
  bool nan = false, outline = false;
  const Map2D* maps[2] = {&before, &after};
  const char* names[2] = {"Before the course", "After the course"};
  std::vector<Panel> panels;
  for (int k = 0; k < 2; ++k) {
    const Map2D& m = *maps[k];
    const double x = left + k * (pw + gap);
    if (m.v.empty() || !has_finite(m.v)) {
      f.text(x + pw / 2, top + ph / 2, "no data", 13, HAlign::Centre, VAlign::Middle);
      f.text(x, top - 8, names[k], 12.5, HAlign::Left, VAlign::Bottom, 0, true);
      continue;
    }
    Panel p = map_panel(m, x, top, pw, ph);
    p.title = names[k];
    nan |= f.heatmap(p, m.nx, m.ny, m.x0, m.y0, m.dx, m.dy, m.v, lo, hi);
    if (!m.outline.empty()) {
      std::vector<double> xs;
      for (int i = 0; i < m.nx; ++i) xs.push_back(m.x0 + (i + 0.5) * m.dx);
      plot::LineStyle st;
      st.colour = kOutline;
      st.width = 1.6;
      st.dash = plot::Dash::Dashed;
      f.line(p, xs, m.outline, st);
      outline = true;
    }
    f.axes(p);
    panels.push_back(p);
  }
  const std::string label = !before.value_label.empty() ? before.value_label : after.value_label;
  f.colourbar(left + 2 * pw + gap + 18, top, 16, ph, lo, hi, label);
  std::string cap = "Depth cross-section before and after the course";
  if (!where.empty()) cap += ", " + where;
  cap += ", on one colour scale";
  if (!label.empty()) cap += " (" + label + ")";
  cap += ".";
  if (nan) cap += " Grey cells have no value (above the skin surface: air).";
  if (outline) cap += " The dashed white line marks the skin surface before the course.";
  return make_fig(
      "cross_section",
      "Depth cross-section before and after." + panels_text(panels) + " Colour: " + label + ".",
      cap, f);
}

std::optional<Fig> scars_figure(const std::vector<ScarProfile>& scars) {
  if (scars.empty()) return std::nullopt;
  const std::size_t n = std::min(scars.size(), kMaxScarPanels);
  constexpr double W = 920, cellw = W / 3, pw = 224, ph = 140, left = 66;
  constexpr double top_gap = 30, bottom_gap = 56, legend_h = 30;
  const double rowh = top_gap + ph + bottom_gap;
  Figure f(W, legend_h + ((n + 2) / 3) * rowh + 4);
  plot::LineStyle after_style;
  after_style.colour = plot::line_colour(0);
  after_style.width = 2.4;
  plot::LineStyle before_style;
  before_style.colour = kBefore;
  before_style.width = 1.8;
  before_style.dash = plot::Dash::Dashed;
  double x = f.legend_entry(20, 16, "before the course", before_style);
  f.legend_entry(x, 16, "after the course", after_style);
  std::vector<Panel> panels;
  for (std::size_t i = 0; i < n; ++i) {
    const ScarProfile& s = scars[i];
    Panel p;
    p.x = (i % 3) * cellw + left;
    p.y = legend_h + (i / 3) * rowh + top_gap;
    p.w = pw;
    p.h = ph;
    p.title = s.label.empty() ? s.kind : s.label;
    Span xs, ds;
    for (std::size_t k = 0; k < s.x_mm.size(); ++k) {
      const double b = k < s.before_um.size() ? s.before_um[k] : NAN;
      const double a = k < s.after_um.size() ? s.after_um[k] : NAN;
      if (!std::isfinite(s.x_mm[k]) || (!std::isfinite(b) && !std::isfinite(a))) continue;
      xs.add(s.x_mm[k]);
      ds.add(b);
      ds.add(a);
    }
    if (xs.empty() || !(xs.hi > xs.lo)) {
      f.text(p.x, p.y - 8, p.title, 12.5, HAlign::Left, VAlign::Bottom, 0, true, p.w);
      f.text(p.x + pw / 2, p.y + ph / 2, "no profile", 12, HAlign::Centre, VAlign::Middle);
      continue;
    }
    double lo = std::min(0.0, ds.lo), hi = std::max(0.0, ds.hi);
    const double pad = hi > lo ? 0.08 * (hi - lo) : 1.0;
    p.xa = Axis{xs.lo, xs.hi, false, false, "position (mm)"};
    p.ya = Axis{lo - (lo < 0 ? pad : 0.3 * pad), hi + pad, false, true, "depth (\u00b5m)"};
    f.hline(p, 0, Rgb{0.7, 0.7, 0.7});
    // After first, before dashed on top: where the scar did not change, both stay visible.
    f.line(p, s.x_mm, s.after_um, after_style);
    f.line(p, s.x_mm, s.before_um, before_style);
    f.axes(p);
    panels.push_back(p);
  }
  std::string cap =
      "Surface profile across each scar's centre, as depth below the surrounding skin "
      "(down is deeper).";
  if (n < scars.size()) cap += fmt::format(" The first {} of {} scars are shown.", n, scars.size());
  return make_fig("scar_profiles",
                  "Scar profiles before and after the course." + panels_text(panels), cap, f);
}

// ---- HTML ----

constexpr const char* kCss = R"css(
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color: #222; background: #fff; max-width: 960px; margin: 0 auto;
       padding: 24px 20px 48px; line-height: 1.45; font-size: 15px; }
header { border-bottom: 2px solid #0072b2; margin-bottom: 8px; }
h1 { font-size: 1.7em; margin: 0 0 4px; overflow-wrap: anywhere; }
.sub { color: #555; margin: 0 0 10px; font-size: 0.92em; }
h2 { font-size: 1.25em; margin: 28px 0 8px; padding-bottom: 3px; border-bottom: 1px solid #ddd; }
figure { margin: 12px 0 20px; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9em; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 5px 12px 5px 0; text-align: left;
         vertical-align: top; }
th { border-bottom: 2px solid #999; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #888; }
.note { color: #555; font-style: italic; }
.warning { border-left: 5px solid #b00020; background: #fdecee; color: #7a0016; padding: 8px 12px;
           margin: 14px 0; font-weight: bold; }
details { margin: 8px 0; }
summary { cursor: pointer; color: #0072b2; }
pre { background: #f5f5f5; border: 1px solid #e2e2e2; padding: 10px; overflow: auto;
      font-size: 12px; line-height: 1.35; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 32px; color: #666; font-size: 0.85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  summary { color: #222; }
  pre { max-height: none; overflow: visible; }
}
)css";

}  // namespace

std::string html_page_start(std::string_view title, std::string_view extra_css) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may load from anywhere: only inline styles and data: images.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "img-src data:; style-src 'unsafe-inline'\">\n";
  h += "<link rel=\"icon\" href=\"data:,\">\n";
  h += fmt::format("<title>{}</title>\n", html_escape(title));
  h += "<style>";
  h += kCss;
  h += extra_css;
  h += "</style>\n</head>\n<body>\n";
  return h;
}

namespace {

// The report's own rules on top of the shared style sheet: the consultation part, the pair of
// puncture figures, and A4 print (the consultation part first, the technical part from a new
// page; no table, figure or callout split across pages; figures scaled to the page).
constexpr const char* kReportCss = R"css(
.lead { font-size: 1.05em; }
.disclaimer-short { color: #555; font-size: 0.92em; margin: 6px 0 0; }
.caution { border-left: 5px solid #b35900; background: #fff4e5; color: #5c2e00;
           padding: 8px 12px; margin: 10px 0; }
.ok { border-left: 5px solid #009e73; background: #eaf7f2; padding: 8px 12px; margin: 10px 0; }
.disclaimer { border: 1px solid #bbb; background: #f7f7f7; padding: 8px 14px; margin: 16px 0; }
.disclaimer p { margin: 6px 0; }
.disclaimer h2 { margin-top: 4px; }
#numerics th { border-bottom: 1px solid #ddd; font-weight: 600; padding-right: 16px; }
td.change, td.num { white-space: nowrap; }
.pair { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.pair figure { flex: 1 1 0; min-width: 280px; margin-top: 0; }
#technical > h2.part { font-size: 1.45em; border-bottom: 2px solid #0072b2; margin-top: 40px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 9.5pt; line-height: 1.32; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12pt; margin: 12px 0 5px; }
  header { margin-bottom: 4px; }
  p { margin: 5px 0; }
  table { margin: 4px 0 8px; }
  th, td { padding: 2px 10px 2px 0; }
  figure { margin: 6px 0 10px; }
  figure img { max-height: 235mm; width: auto; }
  table, figure, .warning, .caution, .ok, .disclaimer, .pair, section#calendar {
    break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  #technical { break-before: page; page-break-before: always; }
  #technical > h2.part { margin-top: 0; }
  .pair { flex-wrap: nowrap; }
  .pair figure { min-width: 0; }
  footer { margin-top: 12px; }
}
)css";

std::string figure_html(const Fig& f) {
  return fmt::format(
      "<figure id=\"fig-{0}\"><img src=\"data:image/png;base64,{1}\" width=\"{2:.0f}\" "
      "height=\"{3:.0f}\" alt=\"{4}\"><figcaption>{5}</figcaption></figure>\n",
      f.name, base64(f.png), f.w, f.h, html_escape(f.alt), html_escape(f.caption));
}

std::string cell(const std::string& s) {
  return s.empty() ? std::string("<span class=\"muted\">\u2014</span>") : html_escape(s);
}

std::string metadata_text(const std::string& raw) {
  const auto j = nlohmann::ordered_json::parse(raw, nullptr, false);
  if (j.is_discarded()) return raw;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string sentences(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ' ';
    out += html_escape(v[i]);
  }
  return out;
}

std::string pct_text(double fraction) {
  const double p = 100.0 * fraction;
  if (p > 0 && p < 0.1) return "less than 0.1 %";
  return fmt::format("{:.1f} %", p);
}

/// "62 % shallower", "unchanged", "5 % deeper".
std::string change_text(double before, double after) {
  if (!(std::isfinite(before) && std::isfinite(after) && before > 0)) return {};
  const double c = 100.0 * (1.0 - after / before);
  if (std::abs(c) < 0.5) return "unchanged";
  return c > 0 ? fmt::format("{:.0f} % shallower", c) : fmt::format("{:.0f} % deeper", -c);
}

/// Predicted outcome: each scar's depth before and after, the Goodman & Baron grades, the
/// profiles figure.
std::string outcome_section(const Consultation& c, const Fig* profiles) {
  std::string h = "<section id=\"outcome\">\n<h2>Predicted outcome</h2>\n";
  if (c.scars.empty()) {
    h += "<p class=\"note\">The scenario has no scars.</p>\n";
  } else {
    double sb = 0, sa = 0;
    int n = 0;
    for (const auto& s : c.scars)
      if (std::isfinite(s.before_um) && std::isfinite(s.after_um)) {
        sb += s.before_um;
        sa += s.after_um;
        ++n;
      }
    if (n > 0) {
      h += "<p class=\"lead\">" +
           html_escape(fmt::format(
               "Mean scar depth below the surrounding skin: {} before treatment, {} at the end "
               "of follow-up ({}).",
               um_text(sb / n), um_text(sa / n), change_text(sb, sa))) +
           "</p>\n";
    }
    h += "<table id=\"scar-table\">\n<thead><tr><th>Scar</th><th class=\"num\">Depth before</th>"
         "<th class=\"num\">Depth after</th><th>Change</th></tr></thead>\n<tbody>\n";
    for (const auto& s : c.scars)
      h += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"change\">{}</td></tr>\n",
          html_escape(s.what), cell(um_text(s.before_um)), cell(um_text(s.after_um)),
          cell(change_text(s.before_um, s.after_um)));
    h += "</tbody>\n</table>\n";
    if (!c.scars_note.empty()) h += "<p class=\"note\">" + html_escape(c.scars_note) + "</p>\n";
  }
  if (c.grade_before >= 0 && c.grade_after >= 0) {
    std::string g =
        fmt::format("Goodman & Baron acne scar grade (the worst scar): {} before, {} after",
                    grade_words(c.grade_before), grade_words(c.grade_after));
    if (c.score_before >= 0 && c.score_after >= 0)
      g += fmt::format("; scar score {} before, {} after (lower is better)", c.score_before,
                       c.score_after);
    g += ".";
    if (!c.graded_on.empty()) g += " Graded on " + c.graded_on + ".";
    h += "<p id=\"grades\">" + html_escape(g) + "</p>\n";
    if (!c.score_rows.empty()) {
      h += "<ul id=\"score-rows\">\n";
      for (const auto& r : c.score_rows) h += fmt::format("<li>{}</li>\n", html_escape(r));
      h += "</ul>\n";
    }
    if (!c.score_note.empty()) {
      h += fmt::format("<p id=\"score-change\" class=\"note\">{}</p>\n", html_escape(c.score_note));
    }
  }
  if (profiles) h += figure_html(*profiles);
  h += "</section>\n";
  return h;
}

std::string side_effects_section(const Consultation& c) {
  std::string h = "<section id=\"side-effects\">\n<h2>Downtime and side effects</h2>\n";
  std::string rows;
  auto row = [&](const std::string& what, const std::string& value) {
    if (!value.empty())
      rows +=
          fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", html_escape(what), html_escape(value));
  };
  row("Visible redness (erythema) after each session", duration_text(c.erythema_days));
  row("Skin barrier closed again after each session", hours_text(c.barrier_hours));
  if (std::isfinite(c.pih_risk)) {
    std::string v = pct_text(c.pih_risk);
    if (std::isfinite(c.pih_limit))
      v += fmt::format(" ({} the {:g} % accepted for this skin type)",
                       c.pih_risk > c.pih_limit ? "above" : "within", 100.0 * c.pih_limit);
    row("Risk of darker patches (post-inflammatory hyperpigmentation)", v);
  }
  if (rows.empty()) {
    h += "<p class=\"note\">No side effects were computed.</p>\n";
  } else {
    h += "<table>\n<thead><tr><th>What</th><th>Predicted</th></tr></thead>\n<tbody>\n" + rows +
         "</tbody>\n</table>\n";
  }
  if (c.fitzpatrick >= 1 && c.fitzpatrick <= 6 && std::isfinite(c.pih_risk)) {
    const bool high = std::isfinite(c.pih_limit) && c.pih_risk > c.pih_limit;
    h += fmt::format("<p{}>{}</p>\n", high ? " class=\"caution\"" : "",
                     html_escape(fmt::format(
                         "The risk of darker patches depends on the skin type: this patient has "
                         "{}; darker skin types carry a higher risk.{}",
                         fitzpatrick_words(c.fitzpatrick),
                         high ? " The predicted risk is above what is accepted for this skin "
                                "type: consider shorter needles, fewer passes or longer intervals."
                              : "")));
  }
  h += "</section>\n";
  return h;
}

std::string safety_section(const Consultation& c, bool warnings) {
  std::string h = "<section id=\"safety\">\n<h2>Safety</h2>\n";
  std::string depth;
  if (std::isfinite(c.depth_reached_um) && std::isfinite(c.dermis_bottom_um))
    depth = fmt::format(
        "The needles reached {} deep on average; at this site the dermis ends {} below the "
        "surface, with fat (subcutaneous tissue) below it.",
        um_text(c.depth_reached_um), um_text(c.dermis_bottom_um));
  if (std::isfinite(c.past_dermis_fraction) && c.past_dermis_fraction > 0) {
    h += "<p class=\"caution\">" +
         html_escape(fmt::format("{}{} of the punctures went past the dermis into the fat.{}",
                                 depth.empty() ? "" : depth + " ", pct_text(c.past_dermis_fraction),
                                 warnings ? " See the warning at the top." : "")) +
         "</p>\n";
  } else if (std::isfinite(c.past_dermis_fraction)) {
    h += "<p class=\"ok\">" +
         html_escape((depth.empty() ? "" : depth + " ") +
                     std::string("No puncture went past the dermis into the fat.")) +
         "</p>\n";
  } else if (!depth.empty()) {
    h += "<p>" + html_escape(depth) + "</p>\n";
  } else {
    h += "<p class=\"note\">No needle depths were computed.</p>\n";
  }
  h += "</section>\n";
  return h;
}

std::string uncertainty_section(const Consultation& c) {
  std::string h = "<section id=\"uncertainty\">\n<h2>How certain is this?</h2>\n<p>";
  h += c.uncertainty.empty()
           ? html_escape(
                 "No uncertainty band was computed for this prediction: it is a single value, and "
                 "the real outcome may be better or worse.")
           : sentences(c.uncertainty);
  h += "</p>\n";
  if (!c.bands.empty()) {
    h += "<table id=\"band-table\">\n<thead><tr><th>What</th><th>This simulation</th>"
         "<th>If the model's fitted values are off (10th to 90th percentile)</th>"
         "<th>Patients who heal faster or slower (10th to 90th percentile)</th></tr></thead>"
         "\n<tbody>\n";
    for (const BandRow& b : c.bands) {
      h += "<tr><td>" + html_escape(b.what) + "</td><td>" + html_escape(b.point) + "</td><td>" +
           html_escape(b.parameter) + "</td><td>" + html_escape(b.variability) + "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
  }
  h += "</section>\n";
  return h;
}

std::string calendar_section(const std::vector<CalendarEntry>& cal) {
  if (cal.empty()) return {};
  const bool dated =
      std::any_of(cal.begin(), cal.end(), [](const CalendarEntry& c) { return !c.date.empty(); });
  std::string h = "<section id=\"calendar\">\n<h2>Session calendar</h2>\n";
  if (!dated)
    h += "<p class=\"note\">The scenario gives no start date ([course] start_date): visits are "
         "counted in weeks from the first session.</p>\n";
  h += fmt::format(
      "<table>\n<thead><tr><th>Visit</th><th>{}</th><th class=\"num\">Day</th><th>What</th></tr>"
      "</thead>\n<tbody>\n",
      dated ? "Date" : "When");
  for (const auto& c : cal) {
    const long day = std::isfinite(c.day) ? std::lround(c.day) : 0;
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
        c.session > 0 ? fmt::format("Session {}", c.session) : std::string("Outcome assessment"),
        html_escape(c.date.empty() ? week_text(day) : c.date), day_text(c.day),
        html_escape(c.what));
  }
  h += "</tbody>\n</table>\n</section>\n";
  return h;
}

constexpr const char* kDisclaimer =
    "<section id=\"disclaimer\" class=\"disclaimer\">\n<h2>Please note</h2>\n"
    "<p>This report comes from a computer simulation of microneedling (mnsim), not from an "
    "examination of the patient. It is not medical advice, a diagnosis or a prescription: any "
    "treatment should be discussed with, and decided by, a qualified clinician.</p>\n"
    "<p>The model rests on published measurements where they exist and on stated assumptions "
    "where they do not, and it describes a typical patient with the given characteristics. Its "
    "known limitations are listed in the mnsim documentation: docs/model.md, \u201cKnown "
    "limitations and open points\u201d, and the limitations sections of docs/skin.md and "
    "docs/devices.md.</p>\n</section>\n";

std::string consultation_part(const ReportData& d, const Fig* profiles) {
  const Consultation& c = d.consultation;
  std::string h = "<div id=\"consultation\">\n";
  h += "<section id=\"summary\">\n<h2>In brief</h2>\n";
  if (c.summary.empty())
    h += "<p class=\"note\">No description of the treatment was given.</p>\n";
  else
    for (const auto& s : c.summary) h += "<p>" + html_escape(s) + "</p>\n";
  h += "</section>\n";
  h += outcome_section(c, profiles);
  h += side_effects_section(c);
  h += safety_section(c, !d.warnings.empty());
  h += uncertainty_section(c);
  h += calendar_section(d.calendar);
  h += kDisclaimer;
  h += "</div>\n";
  return h;
}

std::string technical_part(const ReportData& d, const std::map<std::string, Fig>& figs) {
  auto fig = [&](const std::string& name) -> const Fig* {
    const auto it = figs.find(name);
    return it == figs.end() ? nullptr : &it->second;
  };
  std::string h = "<div id=\"technical\">\n<h2 class=\"part\">Technical details</h2>\n";

  h += "<section id=\"scenario\">\n<h2>Scenario</h2>\n";
  if (d.scenario_in_words.empty())
    h += "<p class=\"note\">No description of the scenario was given.</p>\n";
  else
    h += "<p>" + sentences(d.scenario_in_words) + "</p>\n";
  if (!d.numerics.empty()) {
    h += "<table id=\"numerics\">\n<tbody>\n";
    for (const auto& [k, v] : d.numerics)
      h += fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n", html_escape(k),
                       html_escape(v));
    h += "</tbody>\n</table>\n";
  }
  if (!d.scenario_toml.empty())
    h += "<details><summary>Resolved scenario: every parameter (TOML)</summary>\n<pre>" +
         html_escape(d.scenario_toml) + "</pre></details>\n";
  h += "</section>\n";

  h += "<section id=\"punctures\">\n<h2>Punctures</h2>\n";
  const Fig* dens = fig("puncture_density");
  const Fig* hist = fig("depth_histogram");
  if (dens && hist) {
    h += "<div class=\"pair\">\n" + figure_html(*dens) + figure_html(*hist) + "</div>\n";
  } else {
    h += dens ? figure_html(*dens)
              : std::string("<p class=\"note\">No puncture density map is available.</p>\n");
    h += hist ? figure_html(*hist)
              : std::string("<p class=\"note\">No depth histogram is available.</p>\n");
  }
  h += "</section>\n";

  h += "<section id=\"time-courses\">\n<h2>Time courses by layer</h2>\n";
  if (const Fig* f = fig("time_courses"))
    h += figure_html(*f);
  else
    h += "<p class=\"note\">No time courses were recorded.</p>\n";
  h += "</section>\n";

  h += "<section id=\"cross-section\">\n<h2>Depth cross-section</h2>\n";
  if (const Fig* f = fig("cross_section"))
    h += figure_html(*f);
  else
    h += "<p class=\"note\">No cross-section is available.</p>\n";
  h += "</section>\n";

  h += "<section id=\"outcomes\">\n<h2>All outcome measures</h2>\n";
  if (d.outcomes.empty()) {
    h += "<p class=\"note\">No outcomes were computed.</p>\n";
  } else {
    h += "<table>\n<thead><tr><th>Measure</th><th>Before</th><th>After</th><th>Note</th></tr>"
         "</thead>\n<tbody>\n";
    for (const auto& r : d.outcomes)
      h += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td>{}</td></tr>\n",
          html_escape(r.measure), cell(r.before), cell(r.after), html_escape(r.note));
    h += "</tbody>\n</table>\n";
  }
  h += "</section>\n";

  h += "<section id=\"run\">\n<h2>Run</h2>\n";
  if (d.run_metadata.empty())
    h += "<p class=\"note\">No run metadata.</p>\n";
  else
    h += "<pre>" + html_escape(metadata_text(d.run_metadata)) + "</pre>\n";
  h += "</section>\n</div>\n";
  return h;
}

std::string build_html(const ReportData& d, const std::map<std::string, Fig>& figs) {
  const std::string title = d.title.empty() ? std::string("Untitled scenario") : d.title;
  std::string h;
  h.reserve(1 << 16);
  h += html_page_start(title + " \u2013 mnsim report", kReportCss);
  h += fmt::format("<header>\n<h1 id=\"title\">{}</h1>\n", html_escape(title));
  h += fmt::format("<p class=\"sub\">Microneedling simulation report \u00b7 mnsim {} ({})</p>\n",
                   html_escape(version()), html_escape(git_commit()));
  h += "</header>\n";
  for (const auto& w : d.warnings) {
    h += fmt::format("<p class=\"warning\" role=\"alert\">{}</p>\n", html_escape(w));
  }
  h += "<p class=\"disclaimer-short\">A computer simulation to discuss with a clinician, not "
       "medical advice: see \u201cPlease note\u201d below. The technical details follow the "
       "consultation part.</p>\n";
  const auto it = figs.find("scar_profiles");
  h += consultation_part(d, it == figs.end() ? nullptr : &it->second);
  h += technical_part(d, figs);
  h += "<footer>\n<p>Figures are also in the folder <code>figures/</code> next to this file, as "
       "PNG and SVG. Written by mnsim; this page loads nothing from the network.</p>\n</footer>\n";
  h += "</body>\n</html>\n";
  return h;
}

void make_dir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec || !fs::is_directory(p))
    throw OutputError(
        fmt::format("cannot create folder {}: {}", p.string(), ec ? ec.message() : "not a folder"));
}

}  // namespace

void write_report(const ReportData& data, const fs::path& dir) {
  check(data);
  make_dir(dir);
  const fs::path fdir = dir / "figures";
  make_dir(fdir);
  std::map<std::string, Fig> figs;
  auto keep = [&](std::optional<Fig> f) {
    if (f) figs.emplace(f->name, std::move(*f));
  };
  keep(density_figure(data.puncture_density));
  keep(histogram_figure(data.depth_edges_um, data.depth_counts));
  keep(timecourse_figure(data.series, data.session_days));
  keep(cross_section_figure(data.cross_section_before, data.cross_section_after,
                            data.cross_section_where));
  keep(scars_figure(data.scars));

  for (const auto& name : figure_names()) {
    const auto it = figs.find(name);
    for (const char* ext : {".png", ".svg"}) {
      const fs::path file = fdir / (name + ext);
      if (it != figs.end()) {
        io::write_file_atomic(file, ext[1] == 'p' ? it->second.png : it->second.svg);
      } else {
        // A figure from an earlier report in this folder that this data does not have.
        std::error_code ec;
        fs::remove(file, ec);
        if (ec)
          throw OutputError(fmt::format("cannot remove stale {}: {}", file.string(), ec.message()));
      }
    }
  }
  io::write_file_atomic(dir / "report.html", build_html(data, figs));
}

}  // namespace mnsim::report
