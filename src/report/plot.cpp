#include "report/plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>

#include "core/constants.hpp"
#include "core/error.hpp"

namespace mnsim::report::plot {

namespace {

constexpr const char* kFont = "DejaVu Sans";
constexpr Rgb kInk{0.15, 0.15, 0.15};
constexpr Rgb kGrid{0.90, 0.90, 0.90};
constexpr Rgb kNoData{0.86, 0.86, 0.86};

void set(cairo_t* cr, Rgb c, double a = 1.0) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, a);
}

bool usable(const Axis& a, double v) {
  return std::isfinite(v) && (!a.log || v > 0);
}

// Position of v on axis a as a fraction 0..1 from lo to hi.
double frac(const Axis& a, double v) {
  if (a.log) return (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo));
  return (v - a.lo) / (a.hi - a.lo);
}

Rgb hex(unsigned v) {
  return {((v >> 16) & 0xff) / 255.0, ((v >> 8) & 0xff) / 255.0, (v & 0xff) / 255.0};
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

/// cairo numbers some SVG ids ("image293", "surface354") from process-wide counters: renumbered
/// here in order of appearance, so a figure's SVG does not depend on what the process drew
/// before. Heat-map images are marked for nearest-neighbour scaling, as they are drawn in the PNG.
std::string normalise_svg(const std::string& in) {
  std::string out;
  out.reserve(in.size() + 256);
  std::map<std::string, int> ids;
  std::size_t i = 0;
  const std::string_view prefixes[] = {"image", "surface"};
  while (i < in.size()) {
    bool replaced = false;
    // An id reference: id="NAME" or xlink:href="#NAME" / url(#NAME).
    if (in[i] == '"' || in[i] == '#') {
      for (std::string_view pre : prefixes) {
        if (in.compare(i + 1, pre.size(), pre) != 0) continue;
        std::size_t j = i + 1 + pre.size();
        while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) ++j;
        if (j == i + 1 + pre.size() || j >= in.size() || (in[j] != '"' && in[j] != ')')) continue;
        const std::string key = in.substr(i + 1, j - i - 1);
        const auto it = ids.emplace(key, static_cast<int>(ids.size()) + 1).first;
        out += in[i];
        out += std::string(pre) + std::to_string(it->second);
        i = j;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      if (in.compare(i, 7, "<image ") == 0) {
        out += "<image image-rendering=\"optimizeSpeed\" ";
        i += 7;
      } else {
        out += in[i++];
      }
    }
  }
  return out;
}

void set_dash(cairo_t* cr, Dash d, double width) {
  // Patterns in multiples of the line width (at least 1 px), so thick and thin lines look alike.
  const double u = std::max(1.0, width);
  switch (d) {
    case Dash::Solid:
      cairo_set_dash(cr, nullptr, 0, 0);
      break;
    case Dash::Dashed: {
      const double p[] = {3.5 * u, 2.0 * u};
      cairo_set_dash(cr, p, 2, 0);
      break;
    }
    case Dash::Dotted: {
      const double p[] = {0.01, 2.4 * u};  // round caps make dots
      cairo_set_dash(cr, p, 2, 0);
      break;
    }
    case Dash::DashDot: {
      const double p[] = {4.0 * u, 1.6 * u, 0.01, 1.6 * u};
      cairo_set_dash(cr, p, 4, 0);
      break;
    }
  }
}

}  // namespace

Rgb viridis(double t) {
  // matplotlib viridis sampled at t = 0, 1/8, ..., 1.
  static constexpr std::array<unsigned, 9> anchors = {
      0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * 8.0;
  const int i = std::min(7, static_cast<int>(t));
  const double f = t - i;
  const Rgb a = hex(anchors[i]), b = hex(anchors[i + 1]);
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

Rgb line_colour(std::size_t i) {
  // Okabe & Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, black.
  static constexpr std::array<unsigned, 7> c = {0x0072B2, 0xD55E00, 0x009E73, 0xE69F00,
                                                0xCC79A7, 0x56B4E9, 0x000000};
  return hex(c[i % c.size()]);
}

LineStyle series_style(std::size_t i) {
  static constexpr std::array<Dash, 4> dashes = {Dash::Solid, Dash::Dashed, Dash::Dotted,
                                                 Dash::DashDot};
  static constexpr std::array<Marker, 4> markers = {Marker::Circle, Marker::Square,
                                                    Marker::Triangle, Marker::Diamond};
  LineStyle s;
  s.colour = line_colour(i);
  s.width = 2.0;
  s.dash = dashes[i % dashes.size()];
  s.marker = markers[(i / 7 + i) % markers.size()];
  s.marker_every = 48.0;
  s.marker_phase = 6.0 + 24.0 * static_cast<double>(i % 2) + 12.0 * static_cast<double>(i / 2 % 2);
  return s;
}

namespace {
double nice_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double m = r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10;
  return m * mag;
}
}  // namespace

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(std::isfinite(lo) && std::isfinite(hi)) || !(hi > lo)) return t;
  const double step = nice_step(hi - lo, target);
  const double eps = 1e-9 * step;
  for (double k = std::ceil((lo - eps) / step); k * step <= hi + eps; k += 1) {
    double v = k * step;
    if (std::abs(v) < eps) v = 0;  // no "-0"
    t.push_back(v);
  }
  return t;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  if (!(lo > 0 && hi > lo && std::isfinite(hi))) return t;
  const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  const int decades = e1 - e0;
  const int stride = std::max(1, (decades + 7) / 8);  // at most ~8 decade labels
  const bool minor = decades <= 3;
  for (int e = e0; e <= e1; ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !minor) continue;
      if (m == 1.0 && (e - e0) % stride != 0) continue;
      const double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
    }
  }
  return t;
}

std::string tick_label(double v, double step, bool log) {
  if (v == 0) return "0";
  if (log) {
    const double e = std::floor(std::log10(std::abs(v)) + 1e-9);
    if (e >= -3 && e <= 4) return fmt::format("{:g}", v);
    const double m = v / std::pow(10.0, e);
    if (std::abs(m - 1) < 1e-6) return fmt::format("1e{}", static_cast<int>(e));
    return fmt::format("{:g}e{}", std::round(m * 10) / 10, static_cast<int>(e));
  }
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.3g}", v);
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return fmt::format("{:.{}f}", v, std::clamp(decimals, 0, 6));
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xe0) == 0xc0) {
      n = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 4;
      cp = c & 0x07;
    }
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Reject overlong forms, surrogates and code points beyond U+10FFFF.
    if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
               (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff))
      ok = false;
    if (ok && cp == 0) ok = false;  // NUL is not text
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.push_back('?');
      i += 1;
    }
  }
  return out;
}

double Panel::px(double v) const {
  const double f = frac(xa, v);
  return xa.reversed ? x + w * (1 - f) : x + w * f;
}
double Panel::py(double v) const {
  const double f = frac(ya, v);
  return ya.reversed ? y + h * f : y + h * (1 - f);
}

Figure::Figure(double width, double height, double scale) : w_(width), h_(height), scale_(scale) {
  const cairo_rectangle_t extents{0, 0, width, height};
  surface_ = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
  cr_ = cairo_create(surface_);
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS)
    throw OutputError(fmt::format("report: cannot create a {:.0f}x{:.0f} figure: {}", width, height,
                                  cairo_status_to_string(cairo_status(cr_))));
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

Figure::~Figure() {
  cairo_destroy(cr_);
  // Finished first: cairo 1.16's SVG surface keeps a reference to a recording surface painted
  // into it (svg()) that it never drops, which would keep every recorded command and font face
  // alive; finishing frees them, and only the surface's own struct remains (tests/lsan.supp).
  cairo_surface_finish(surface_);
  cairo_surface_destroy(surface_);
}

double Figure::text_width(std::string_view s, double size, bool bold) {
  const std::string t = sanitize_utf8(s);
  cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr_, t.c_str(), &e);
  return e.x_advance;
}

void Figure::text(double x, double y, std::string_view s, double size, HAlign ha, VAlign va,
                  double angle, bool bold, double max_width) {
  std::string t = sanitize_utf8(s);
  if (t.empty()) return;
  if (max_width > 0 && text_width(t, size, bold) > max_width) {
    // Cut whole UTF-8 characters until it fits with an ellipsis.
    while (!t.empty() && text_width(t + "\u2026", size, bold) > max_width) {
      t.pop_back();
      while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xc0) == 0x80) t.pop_back();
      if (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xc0) == 0xc0) t.pop_back();
    }
    t += "\u2026";
  }
  cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr_, t.c_str(), &e);
  cairo_font_extents_t fe;
  cairo_font_extents(cr_, &fe);
  double dx = 0, dy = 0;
  if (ha == HAlign::Centre) dx = -e.x_advance / 2;
  if (ha == HAlign::Right) dx = -e.x_advance;
  if (va == VAlign::Top) dy = fe.ascent;
  if (va == VAlign::Middle) dy = (fe.ascent - fe.descent) / 2;
  if (va == VAlign::Bottom) dy = -fe.descent;
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, angle);
  cairo_move_to(cr_, dx, dy);
  set(cr_, kInk);
  cairo_show_text(cr_, t.c_str());
  cairo_restore(cr_);
}

void Figure::axes(const Panel& p) {
  constexpr double fs = 11.5;
  const bool xlog = p.xa.log, ylog = p.ya.log;
  const auto xt = !p.xa.ticks ? std::vector<double>{}
                  : xlog      ? log_ticks(p.xa.lo, p.xa.hi)
                              : linear_ticks(p.xa.lo, p.xa.hi, 6);
  const auto yt = !p.ya.ticks ? std::vector<double>{}
                  : ylog      ? log_ticks(p.ya.lo, p.ya.hi)
                              : linear_ticks(p.ya.lo, p.ya.hi, 5);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  cairo_set_line_width(cr_, 0.8);
  // Grid lines behind the data are drawn by the caller via grid(); here ticks and frame.
  set(cr_, kInk);
  double max_ylabel = 0;
  for (double v : xt) {
    const double X = p.px(v);
    cairo_move_to(cr_, X, p.y + p.h);
    cairo_line_to(cr_, X, p.y + p.h + 4);
    cairo_stroke(cr_);
    text(X, p.y + p.h + 6, tick_label(v, xstep, xlog), fs, HAlign::Centre, VAlign::Top);
  }
  for (double v : yt) {
    const double Y = p.py(v);
    set(cr_, kInk);
    cairo_move_to(cr_, p.x - 4, Y);
    cairo_line_to(cr_, p.x, Y);
    cairo_stroke(cr_);
    const std::string l = tick_label(v, ystep, ylog);
    max_ylabel = std::max(max_ylabel, text_width(l, fs));
    text(p.x - 6, Y, l, fs, HAlign::Right, VAlign::Middle);
  }
  set(cr_, kInk);
  cairo_rectangle(cr_, p.x, p.y, p.w, p.h);
  cairo_stroke(cr_);
  if (!p.xa.label.empty())
    text(p.x + p.w / 2, p.y + p.h + 22, p.xa.label, 12.5, HAlign::Centre, VAlign::Top);
  if (!p.ya.label.empty())
    text(p.x - max_ylabel - 12, p.y + p.h / 2, p.ya.label, 12.5, HAlign::Centre, VAlign::Bottom,
         -kPi / 2, false, p.h + 30);
  if (!p.title.empty()) text(p.x, p.y - 8, p.title, 13, HAlign::Left, VAlign::Bottom, 0, true, p.w);
}

void Figure::line(const Panel& p, const std::vector<double>& x, const std::vector<double>& y, Rgb c,
                  double width, bool dashed) {
  LineStyle s;
  s.colour = c;
  s.width = width;
  s.dash = dashed ? Dash::Dashed : Dash::Solid;
  line(p, x, y, s);
}

void Figure::marker(double x, double y, const LineStyle& s) {
  const double r = 1.9 * std::max(1.5, s.width);
  cairo_new_path(cr_);
  switch (s.marker) {
    case Marker::None:
      return;
    case Marker::Circle:
      cairo_arc(cr_, x, y, r, 0, 2 * kPi);
      break;
    case Marker::Square:
      cairo_rectangle(cr_, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r);
      break;
    case Marker::Triangle:
      cairo_move_to(cr_, x, y - 1.15 * r);
      cairo_line_to(cr_, x + r, y + 0.6 * r);
      cairo_line_to(cr_, x - r, y + 0.6 * r);
      cairo_close_path(cr_);
      break;
    case Marker::Diamond:
      cairo_move_to(cr_, x, y - 1.2 * r);
      cairo_line_to(cr_, x + 1.2 * r, y);
      cairo_line_to(cr_, x, y + 1.2 * r);
      cairo_line_to(cr_, x - 1.2 * r, y);
      cairo_close_path(cr_);
      break;
  }
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_fill_preserve(cr_);
  set(cr_, s.colour);
  cairo_set_dash(cr_, nullptr, 0, 0);
  cairo_set_line_width(cr_, std::max(1.2, 0.7 * s.width));
  cairo_stroke(cr_);
}

void Figure::line(const Panel& p, const std::vector<double>& x, const std::vector<double>& y,
                  const LineStyle& style) {
  cairo_save(cr_);
  cairo_rectangle(cr_, p.x, p.y, p.w, p.h);
  cairo_clip(cr_);
  set(cr_, style.colour);
  cairo_set_line_width(cr_, style.width);
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr_, CAIRO_LINE_CAP_ROUND);
  set_dash(cr_, style.dash, style.width);
  bool pen = false;
  int run = 0;  // points in the current unbroken run
  std::vector<std::pair<double, double>> lone;
  std::vector<std::pair<double, double>> marks;  // marker positions along the line
  double lx = 0, ly = 0;
  // Markers at fixed horizontal positions (every marker_every px from the panel's left edge plus
  // the phase), so two lines with different phases never put markers on the same spot and a
  // steep stretch does not crowd them.
  const bool with_markers = style.marker != Marker::None && style.marker_every > 0;
  auto mark_index = [&](double X) {
    return std::floor((X - p.x - style.marker_phase) / style.marker_every);
  };
  const std::size_t n = std::min(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!usable(p.xa, x[i]) || !std::isfinite(y[i])) {
      if (run == 1) lone.emplace_back(lx, ly);
      pen = false;
      run = 0;
      continue;
    }
    // On a log axis zero and negative values lie below any floor: draw them off the panel's
    // bottom edge (clipped), as for tiny positive values.
    const double yv = p.ya.log && y[i] <= 0 ? p.ya.lo * 1e-3 : y[i];
    const double X = p.px(x[i]), Y = p.py(yv);
    if (pen) {
      cairo_line_to(cr_, X, Y);
      if (with_markers && X != lx) {
        // Marker positions crossed by this segment (either direction).
        const double a = std::min(lx, X), b = std::max(lx, X);
        for (double k = mark_index(a) + 1; k <= mark_index(b); k += 1) {
          const double mx = p.x + style.marker_phase + k * style.marker_every;
          if (mx <= a || mx > b) continue;
          const double f = (mx - lx) / (X - lx);
          marks.emplace_back(mx, ly + f * (Y - ly));
        }
      }
    } else {
      cairo_move_to(cr_, X, Y);
      pen = true;
    }
    lx = X;
    ly = Y;
    ++run;
  }
  if (run == 1) lone.emplace_back(lx, ly);
  cairo_stroke(cr_);
  // A point with no neighbour is shown as a dot.
  for (const auto& [X, Y] : lone) {
    cairo_new_sub_path(cr_);
    cairo_arc(cr_, X, Y, 1.6 * style.width, 0, 2 * kPi);
    cairo_fill(cr_);
  }
  for (const auto& [X, Y] : marks) {
    if (X < p.x - 1 || X > p.x + p.w + 1 || Y < p.y - 1 || Y > p.y + p.h + 1) continue;
    marker(X, Y, style);
  }
  cairo_restore(cr_);
}

void Figure::vmarker(const Panel& p, double x, Rgb c) {
  if (!usable(p.xa, x)) return;
  const double lo = std::min(p.xa.lo, p.xa.hi), hi = std::max(p.xa.lo, p.xa.hi);
  if (x < lo || x > hi) return;
  cairo_save(cr_);
  set(cr_, c);
  cairo_set_line_width(cr_, 1.0);
  const double d[] = {4, 3};
  cairo_set_dash(cr_, d, 2, 0);
  cairo_move_to(cr_, p.px(x), p.y);
  cairo_line_to(cr_, p.px(x), p.y + p.h);
  cairo_stroke(cr_);
  cairo_restore(cr_);
}

void Figure::hline(const Panel& p, double y, Rgb c) {
  if (!usable(p.ya, y)) return;
  const double lo = std::min(p.ya.lo, p.ya.hi), hi = std::max(p.ya.lo, p.ya.hi);
  if (y < lo || y > hi) return;
  cairo_save(cr_);
  set(cr_, c);
  cairo_set_line_width(cr_, 0.8);
  cairo_move_to(cr_, p.x, p.py(y));
  cairo_line_to(cr_, p.x + p.w, p.py(y));
  cairo_stroke(cr_);
  cairo_restore(cr_);
}

void Figure::bars(const Panel& p, const std::vector<double>& edges,
                  const std::vector<double>& counts, Rgb fill) {
  cairo_save(cr_);
  cairo_rectangle(cr_, p.x, p.y, p.w, p.h);
  cairo_clip(cr_);
  const double base = p.ya.log ? p.ya.lo : 0.0;
  for (std::size_t i = 0; i + 1 < edges.size() && i < counts.size(); ++i) {
    const double c = counts[i];
    if (!std::isfinite(c) || !std::isfinite(edges[i]) || !std::isfinite(edges[i + 1])) continue;
    if (p.ya.log && c <= 0) continue;
    const double x0 = p.px(edges[i]), x1 = p.px(edges[i + 1]);
    const double y0 = p.py(base), y1 = p.py(c);
    cairo_rectangle(cr_, std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0), std::abs(y1 - y0));
    set(cr_, fill);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_set_line_width(cr_, 0.6);
    cairo_stroke(cr_);
  }
  cairo_restore(cr_);
}

bool Figure::heatmap(const Panel& p, int nx, int ny, double x0, double y0, double dx, double dy,
                     const std::vector<float>& v, double vlo, double vhi) {
  cairo_save(cr_);
  set(cr_, kNoData);
  cairo_rectangle(cr_, p.x, p.y, p.w, p.h);
  cairo_fill(cr_);
  cairo_restore(cr_);
  if (nx <= 0 || ny <= 0) return false;
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, nx, ny);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    throw OutputError(fmt::format("report: cannot create a {}x{} heat map", nx, ny));
  }
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  const double span = vhi > vlo ? vhi - vlo : 1.0;
  bool any_nan = false;
  for (int j = 0; j < ny; ++j) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::size_t>(j) * stride);
    for (int i = 0; i < nx; ++i) {
      const float f = v[static_cast<std::size_t>(j) * nx + i];
      if (!std::isfinite(f)) {
        row[i] = 0;  // transparent (premultiplied)
        any_nan = true;
        continue;
      }
      const Rgb c = viridis((f - vlo) / span);
      const auto r = static_cast<std::uint32_t>(std::lround(c.r * 255));
      const auto g = static_cast<std::uint32_t>(std::lround(c.g * 255));
      const auto b = static_cast<std::uint32_t>(std::lround(c.b * 255));
      row[i] = 0xff000000u | (r << 16) | (g << 8) | b;
    }
  }
  cairo_surface_mark_dirty(img);
  // Image row j covers data y in [y0 + j dy, y0 + (j+1) dy]: map the image rectangle onto the
  // panel through the axis transforms (which handle reversed axes).
  const double X0 = p.px(x0), X1 = p.px(x0 + nx * dx);
  const double Y0 = p.py(y0), Y1 = p.py(y0 + ny * dy);
  cairo_save(cr_);
  cairo_rectangle(cr_, p.x, p.y, p.w, p.h);
  cairo_clip(cr_);
  cairo_translate(cr_, X0, Y0);
  cairo_scale(cr_, (X1 - X0) / nx, (Y1 - Y0) / ny);
  cairo_set_source_surface(cr_, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr_), CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr_), CAIRO_EXTEND_NONE);
  cairo_rectangle(cr_, 0, 0, nx, ny);
  cairo_fill(cr_);
  cairo_restore(cr_);
  cairo_surface_destroy(img);
  return any_nan;
}

void Figure::colourbar(double x, double y, double w, double h, double vlo, double vhi,
                       std::string_view label) {
  constexpr int steps = 128;
  for (int k = 0; k < steps; ++k) {
    set(cr_, viridis((k + 0.5) / steps));
    const double y0 = y + h - (k + 1) * h / steps;
    cairo_rectangle(cr_, x, y0, w, h / steps + 0.5);
    cairo_fill(cr_);
  }
  set(cr_, kInk);
  cairo_set_line_width(cr_, 0.8);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
  Panel bar;
  bar.x = x;
  bar.y = y;
  bar.w = w;
  bar.h = h;
  bar.ya.lo = vlo;
  bar.ya.hi = vhi > vlo ? vhi : vlo + 1;
  const auto ticks = linear_ticks(bar.ya.lo, bar.ya.hi, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  double maxw = 0;
  for (double t : ticks) {
    const double Y = bar.py(t);
    set(cr_, kInk);
    cairo_move_to(cr_, x + w, Y);
    cairo_line_to(cr_, x + w + 4, Y);
    cairo_stroke(cr_);
    const std::string l = tick_label(t, step, false);
    maxw = std::max(maxw, text_width(l, 11));
    text(x + w + 6, Y, l, 11, HAlign::Left, VAlign::Middle);
  }
  text(x + w + maxw + 12, y + h / 2, label, 12, HAlign::Centre, VAlign::Top, -kPi / 2, false,
       h + 40);
}

double Figure::legend_entry(double x, double y, std::string_view name, Rgb c, bool dashed,
                            double width) {
  cairo_save(cr_);
  set(cr_, c);
  cairo_set_line_width(cr_, width);
  if (dashed) {
    const double d[] = {5, 3};
    cairo_set_dash(cr_, d, 2, 0);
  }
  cairo_move_to(cr_, x, y);
  cairo_line_to(cr_, x + 24, y);
  cairo_stroke(cr_);
  cairo_restore(cr_);
  text(x + 30, y, name, 12, HAlign::Left, VAlign::Middle);
  return x + 30 + text_width(name, 12) + 18;
}

double Figure::legend_entry(double x, double y, std::string_view name, const LineStyle& style) {
  cairo_save(cr_);
  set(cr_, style.colour);
  cairo_set_line_width(cr_, style.width);
  cairo_set_line_cap(cr_, CAIRO_LINE_CAP_ROUND);
  set_dash(cr_, style.dash, style.width);
  cairo_move_to(cr_, x, y);
  cairo_line_to(cr_, x + 34, y);
  cairo_stroke(cr_);
  marker(x + 17, y, style);
  cairo_restore(cr_);
  text(x + 40, y, name, 12, HAlign::Left, VAlign::Middle);
  return x + 40 + text_width(name, 12) + 18;
}

cairo_surface_t* Figure::rasterise() const {
  const int pw = static_cast<int>(std::ceil(w_ * scale_));
  const int ph = static_cast<int>(std::ceil(h_ * scale_));
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
  cairo_t* c = cairo_create(img);
  cairo_scale(c, scale_, scale_);
  cairo_set_source_surface(c, surface_, 0, 0);
  cairo_paint(c);
  const cairo_status_t st = cairo_status(c);
  cairo_destroy(c);
  if (st != CAIRO_STATUS_SUCCESS || cairo_status(cr_) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    throw OutputError(
        fmt::format("report: cannot draw a {}x{} figure: {}", pw, ph,
                    cairo_status_to_string(st != CAIRO_STATUS_SUCCESS ? st : cairo_status(cr_))));
  }
  cairo_surface_flush(img);
  return img;
}

Rgb Raster::at(double x, double y) const {
  const int i = std::clamp(static_cast<int>(x * scale_), 0, w_ - 1);
  const int j = std::clamp(static_cast<int>(y * scale_), 0, h_ - 1);
  const std::uint32_t v =
      px_[static_cast<std::size_t>(j) * static_cast<std::size_t>(w_) + static_cast<std::size_t>(i)];
  return {((v >> 16) & 0xff) / 255.0, ((v >> 8) & 0xff) / 255.0, (v & 0xff) / 255.0};
}

Raster Figure::raster() const {
  cairo_surface_t* img = rasterise();
  const int w = cairo_image_surface_get_width(img);
  const int h = cairo_image_surface_get_height(img);
  const int stride = cairo_image_surface_get_stride(img);
  const unsigned char* data = cairo_image_surface_get_data(img);
  std::vector<std::uint32_t> px(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int j = 0; j < h; ++j)
    std::memcpy(px.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(w),
                data + static_cast<std::size_t>(j) * static_cast<std::size_t>(stride),
                4 * static_cast<std::size_t>(w));
  cairo_surface_destroy(img);
  return Raster(w, h, scale_, std::move(px));
}

Rgb Figure::pixel(double x, double y) const {
  return raster().at(x, y);
}

std::string Figure::png() const {
  cairo_surface_t* img = rasterise();
  std::string out;
  const cairo_status_t st = cairo_surface_write_to_png_stream(img, append_bytes, &out);
  cairo_surface_destroy(img);
  if (st != CAIRO_STATUS_SUCCESS)
    throw OutputError(
        fmt::format("report: cannot encode a figure: {}", cairo_status_to_string(st)));
  return out;
}

std::string Figure::svg() const {
  std::string out;
  cairo_surface_t* svg = cairo_svg_surface_create_for_stream(append_bytes, &out, w_, h_);
  cairo_svg_surface_restrict_to_version(svg, CAIRO_SVG_VERSION_1_1);
  cairo_svg_surface_set_document_unit(svg, CAIRO_SVG_UNIT_PX);
  cairo_t* c = cairo_create(svg);
  cairo_set_source_surface(c, surface_, 0, 0);
  cairo_paint(c);
  cairo_status_t st = cairo_status(c);
  cairo_destroy(c);
  cairo_surface_finish(svg);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(svg);
  cairo_surface_destroy(svg);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_status(cr_);
  if (st != CAIRO_STATUS_SUCCESS)
    throw OutputError(
        fmt::format("report: cannot encode a figure as SVG: {}", cairo_status_to_string(st)));
  return normalise_svg(out);
}

}  // namespace mnsim::report::plot
