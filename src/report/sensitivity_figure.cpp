#include "report/sensitivity_figure.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "report/plot.hpp"

namespace mnsim::report {

namespace {

constexpr double kColumns = 2;
constexpr double kPanelWidth = 660;  // a panel with its labels
constexpr double kLabelWidth = 290;  // parameter names left of the bars
constexpr double kRow = 20;          // one parameter
constexpr double kPanelExtra = 92;   // title above, axis and its label below
constexpr double kHeader = 58;       // the figure's title and legend

double panel_height(const protocol::SensitivitySpec& s) {
  return static_cast<double>(s.parameters.size()) * kRow + kPanelExtra;
}

std::size_t rows(const protocol::SensitivitySpec& s) {
  return (s.outputs.size() + 1) / 2;
}

void rect(cairo_t* cr, const plot::Panel& p, double row, double frac_lo, double frac_hi, double x0,
          double x1, plot::Rgb c) {
  const double X0 = p.px(std::clamp(x0, p.xa.lo, p.xa.hi));
  const double X1 = p.px(std::clamp(x1, p.xa.lo, p.xa.hi));
  const double y0 = p.y + (row + frac_lo) * kRow, y1 = p.y + (row + frac_hi) * kRow;
  cairo_rectangle(cr, std::min(X0, X1), y0, std::abs(X1 - X0), y1 - y0);
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_fill(cr);
}

void whisker(cairo_t* cr, const plot::Panel& p, double row, double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return;
  const double X0 = p.px(std::clamp(lo, p.xa.lo, p.xa.hi));
  const double X1 = p.px(std::clamp(hi, p.xa.lo, p.xa.hi));
  const double y = p.y + (row + 0.5) * kRow;
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_line_width(cr, 1.2);
  cairo_move_to(cr, X0, y);
  cairo_line_to(cr, X1, y);
  for (double X : {X0, X1}) {
    cairo_move_to(cr, X, y - 4);
    cairo_line_to(cr, X, y + 4);
  }
  cairo_stroke(cr);
}

}  // namespace

FigureSize sensitivity_figure_size(const protocol::SensitivitySpec& s) {
  return {kColumns * kPanelWidth + 20, kHeader + static_cast<double>(rows(s)) * panel_height(s)};
}

std::string sensitivity_png(const protocol::SensitivitySpec& s,
                            const protocol::SensitivityResult& r) {
  const bool sobol = s.method == protocol::SensitivityMethod::Sobol;
  const FigureSize size = sensitivity_figure_size(s);
  plot::Figure fig(size.width, size.height);
  cairo_t* cr = fig.cr();
  const int level = static_cast<int>(std::lround(100.0 * s.bootstrap.confidence));
  const std::string intervals =
      s.bootstrap.resamples > 0
          ? fmt::format("whiskers: {}% bootstrap interval of {} ({} resamples)", level,
                        sobol ? "S_T" : "mu*", s.bootstrap.resamples)
          : std::string("no confidence intervals (bootstrap = 0)");
  const std::string title =
      sobol ? fmt::format(
                  "Which parameters drive each outcome: total-order Sobol' indices "
                  "(N = {}, {} model evaluations)",
                  s.samples, r.evaluations)
            : fmt::format(
                  "Which parameters drive each outcome: Morris mu* ({} trajectories, {} "
                  "levels, {} model evaluations)",
                  s.trajectories, s.levels, r.evaluations);
  fig.text(12, 22, title, 14, plot::HAlign::Left, plot::VAlign::Baseline, 0, true, size.width - 24);
  {
    // Legend.
    const double y = 42;
    double x = 12;
    const plot::Rgb total = plot::line_colour(5), first = plot::line_colour(0);
    auto swatch = [&](plot::Rgb c, const std::string& words) {
      cairo_rectangle(cr, x, y - 9, 14, 10);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      cairo_fill(cr);
      fig.text(x + 19, y, words, 11.5);
      x += 24 + fig.text_width(words, 11.5) + 16;
    };
    if (sobol) {
      swatch(total, "total order S_T: share of the variance with all its interactions");
      swatch(first, "first order S_1: share by the parameter alone");
    } else {
      swatch(total,
             "mu*: mean absolute elementary effect, the outcome's change over a parameter's "
             "whole range");
    }
    fig.text(x, y, intervals, 11.5);
  }
  for (std::size_t o = 0; o < r.outputs.size(); ++o) {
    const auto& out = r.outputs[o];
    const auto& def = protocol::sensitivity_output(out.output);
    const double col = static_cast<double>(o % 2), row = static_cast<double>(o / 2);
    plot::Panel p;
    p.x = 10 + col * kPanelWidth + kLabelWidth;
    p.y = kHeader + row * panel_height(s) + 26;
    p.w = kPanelWidth - kLabelWidth - 30;
    p.h = static_cast<double>(s.parameters.size()) * kRow;
    std::string words(def.words);
    if (!words.empty())
      words[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(words[0])));
    fig.text(10 + col * kPanelWidth, p.y - 8,
             out.varies
                 ? fmt::format("{} ({}): mean {:.3g}, SD {:.3g}", words, def.unit, out.mean, out.sd)
                 : fmt::format("{} ({}): {:.3g} in every evaluation", words, def.unit, out.mean),
             12, plot::HAlign::Left, plot::VAlign::Bottom, 0, true, kPanelWidth - 30);
    p.ya.lo = 0;
    p.ya.hi = 1;
    p.ya.ticks = false;
    double hi = sobol ? 1.0 : 0.0;
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      const auto& e = sobol ? out.sobol.total[i] : out.morris.mu_star[i];
      for (double v : {e.value, e.high}) {
        if (std::isfinite(v)) hi = std::max(hi, v);
      }
    }
    if (!sobol) hi = hi > 0 ? hi * 1.05 : 1.0;
    p.xa.lo = 0;
    p.xa.hi = hi;
    p.xa.label = sobol ? "total-order index S_T (share of the outcome's variance)"
                       : fmt::format("mu* ({} over the parameter's whole range)", def.unit);
    // Grid lines behind the bars.
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 0.8);
    for (double v : plot::linear_ticks(p.xa.lo, p.xa.hi, 6)) {
      cairo_move_to(cr, p.px(v), p.y);
      cairo_line_to(cr, p.px(v), p.y + p.h);
    }
    cairo_stroke(cr);
    // An output that does not vary over the sample has no Sobol' indices and no effects.
    const bool none = !out.varies || (sobol && !std::isfinite(out.sobol.first.front().value));
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      const double rw = static_cast<double>(i);
      fig.text(p.x - 8, p.y + (rw + 0.5) * kRow, s.parameters[i].key, 11, plot::HAlign::Right,
               plot::VAlign::Middle, 0, false, kLabelWidth - 14);
      if (none) continue;
      if (sobol) {
        const auto& t = out.sobol.total[i];
        const auto& f = out.sobol.first[i];
        if (std::isfinite(t.value)) rect(cr, p, rw, 0.15, 0.85, 0, t.value, plot::line_colour(5));
        if (std::isfinite(f.value)) rect(cr, p, rw, 0.35, 0.65, 0, f.value, plot::line_colour(0));
        whisker(cr, p, rw, t.low, t.high);
      } else {
        const auto& m = out.morris.mu_star[i];
        if (std::isfinite(m.value)) rect(cr, p, rw, 0.15, 0.85, 0, m.value, plot::line_colour(5));
        whisker(cr, p, rw, m.low, m.high);
      }
    }
    fig.axes(p);
    if (none) {
      fig.text(p.x + p.w / 2, p.y + p.h / 2, "does not vary over the sample: no indices", 12,
               plot::HAlign::Centre, plot::VAlign::Middle);
    }
  }
  return fig.png();
}

}  // namespace mnsim::report
