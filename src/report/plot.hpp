// A small 2-D plotting layer on cairo for the report: figures, axes with readable ticks, lines,
// bars, heat maps with colour bars, legends, and PNG and SVG encoding. Presentation only.
//
// Coordinates: a Figure has a logical size in CSS pixels. It is drawn once onto a cairo recording
// surface, then replayed: rasterised at `scale` device pixels per logical pixel for PNG (2 by
// default, sharp on high-density screens and in print), or as vectors for SVG (1 logical pixel =
// 1 SVG px).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using cairo_t = struct _cairo;
using cairo_surface_t = struct _cairo_surface;

namespace mnsim::report::plot {

struct Rgb {
  double r = 0, g = 0, b = 0;
};

/// Viridis-like perceptually ordered, colour-blind-safe map: piecewise-linear interpolation in
/// sRGB between nine anchor colours of matplotlib's viridis (CC0). t is clamped to [0, 1].
Rgb viridis(double t);

/// Line colours from the Okabe & Ito (2008) colour-blind-safe palette (yellow left out: it is
/// unreadable on white). Cycles after 7 entries.
Rgb line_colour(std::size_t i);

/// Ticks for a linear axis: multiples of 1, 2 or 5 x 10^k inside [lo, hi], about `target` of them.
std::vector<double> linear_ticks(double lo, double hi, int target);
/// Ticks for a logarithmic axis (lo > 0): decades, with 2x and 5x added when fewer than three
/// decades fall inside the range.
std::vector<double> log_ticks(double lo, double hi);
/// Tick label for value v on an axis whose ticks are `step` apart (linear) or logarithmic.
std::string tick_label(double v, double step, bool log);

/// Replaces invalid UTF-8 sequences by '?' so cairo (and HTML) always get valid text.
std::string sanitize_utf8(std::string_view s);

/// How a line is stroked: solid or one of three dash patterns.
enum class Dash { Solid, Dashed, Dotted, DashDot };
/// Marker shapes placed along a line (hollow, white inside, outlined in the line's colour).
enum class Marker { None, Circle, Square, Triangle, Diamond };

/// The look of one data line. Markers sit where the line crosses x = panel left + marker_phase +
/// k marker_every (logical pixels), so two lines that coincide show both: with different phases
/// their markers alternate.
struct LineStyle {
  Rgb colour;
  double width = 2.0;
  Dash dash = Dash::Solid;
  Marker marker = Marker::None;
  double marker_every = 48.0;
  double marker_phase = 6.0;
};

/// The style of data line `i` of a figure whose lines may coincide: Okabe & Ito colour i, and
/// dash pattern, marker shape and marker phase that change with i too, so a line drawn over
/// another never hides it.
LineStyle series_style(std::size_t i);

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;       // logarithmic (lo, hi > 0)
  bool reversed = false;  // hi at the start (left for x, top for y): depth axes
  std::string label;
  bool ticks = true;  // false: no ticks or tick labels (categories labelled by the caller)
};

/// A plotting area inside a figure (logical pixels, origin top left).
struct Panel {
  double x = 0, y = 0, w = 0, h = 0;
  Axis xa, ya;
  std::string title;
  double px(double v) const;  // data -> logical x
  double py(double v) const;  // data -> logical y
};

enum class HAlign { Left, Centre, Right };
enum class VAlign { Top, Middle, Baseline, Bottom };

/// A rasterised figure's pixels (for tests): the colour under a logical point.
class Raster {
 public:
  Raster(int w, int h, double scale, std::vector<std::uint32_t> px)
      : w_(w), h_(h), scale_(scale), px_(std::move(px)) {}
  Rgb at(double x, double y) const;

 private:
  int w_, h_;
  double scale_;
  std::vector<std::uint32_t> px_;  // 0x00RRGGBB, row by row
};

class Figure {
 public:
  Figure(double width, double height, double scale = 2.0);
  ~Figure();
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  cairo_t* cr() const { return cr_; }
  double width() const { return w_; }
  double height() const { return h_; }

  /// Text in the default sans font; angle in radians (counter-clockwise positive on screen as
  /// -pi/2 turns text upward). Text wider than max_width (if > 0) is cut with an ellipsis.
  void text(double x, double y, std::string_view s, double size, HAlign ha = HAlign::Left,
            VAlign va = VAlign::Baseline, double angle = 0, bool bold = false,
            double max_width = 0);
  double text_width(std::string_view s, double size, bool bold = false);

  /// Frame, grid lines, ticks, tick labels, axis labels and title of a panel.
  void axes(const Panel& p);
  /// Polyline through (x[i], y[i]); non-finite points break the line. On a log y axis values
  /// <= 0 are drawn below the panel (off its bottom edge). Clipped to the panel.
  void line(const Panel& p, const std::vector<double>& x, const std::vector<double>& y, Rgb c,
            double width, bool dashed);
  /// The same with a full style: dash pattern and markers along the line (markers are clipped to
  /// the panel; none on a lone point, which shows as a dot).
  void line(const Panel& p, const std::vector<double>& x, const std::vector<double>& y,
            const LineStyle& style);
  /// Vertical dashed marker at data x (skipped outside the axis range).
  void vmarker(const Panel& p, double x, Rgb c);
  /// Horizontal thin line at data y (skipped outside the axis range).
  void hline(const Panel& p, double y, Rgb c);
  /// Histogram bars: bin i spans [edges[i], edges[i+1]] with height counts[i].
  void bars(const Panel& p, const std::vector<double>& edges, const std::vector<double>& counts,
            Rgb fill);
  /// Heat map of an nx * ny grid (x fastest, row 0 at data y = y0) with cells
  /// [x0 + i dx, x0 + (i+1) dx] x [y0 + j dy, ...], coloured on [vlo, vhi]. NaN cells are left
  /// transparent over a light grey background. Returns true if any cell was NaN.
  bool heatmap(const Panel& p, int nx, int ny, double x0, double y0, double dx, double dy,
               const std::vector<float>& v, double vlo, double vhi);
  /// Vertical colour bar at (x, y, w, h) for [vlo, vhi] with ticks and a rotated label.
  void colourbar(double x, double y, double w, double h, double vlo, double vhi,
                 std::string_view label);
  /// One legend entry: a short line sample and its name; returns the x after the entry.
  double legend_entry(double x, double y, std::string_view name, Rgb c, bool dashed,
                      double width = 2.0);
  /// A legend entry with a line style's dash and marker.
  double legend_entry(double x, double y, std::string_view name, const LineStyle& style);

  /// Colour of the device pixel under logical point (x, y) of the PNG rasterisation (for tests).
  Rgb pixel(double x, double y) const;
  /// The whole PNG rasterisation, for many pixel() look-ups at once (for tests).
  Raster raster() const;

  /// Encodes the figure as PNG at `scale` device pixels per logical pixel. Throws OutputError if
  /// cairo fails.
  std::string png() const;
  /// Encodes the figure as SVG 1.1 (vectors; text as glyph outlines, heat maps as embedded
  /// images scaled nearest-neighbour), `width` x `height` px; the same drawing gives the same
  /// bytes whatever the process drew before. Throws OutputError if cairo fails.
  std::string svg() const;

 private:
  /// The recording replayed onto a new image surface (caller destroys it).
  cairo_surface_t* rasterise() const;
  void marker(double x, double y, const LineStyle& s);

  double w_, h_, scale_;
  cairo_surface_t* surface_ = nullptr;  // recording surface
  cairo_t* cr_ = nullptr;
};

}  // namespace mnsim::report::plot
