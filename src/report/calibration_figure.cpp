#include "report/calibration_figure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/plot.hpp"

namespace mnsim::report {

namespace {

constexpr int kColumns = 3;
constexpr double kPanelW = 400, kPanelH = 210;  // a panel with its labels
constexpr double kHeader = 58;
constexpr int kBins = 24;

struct Histogram {
  std::vector<double> edges, counts;
};

// Counts of `x` in kBins bins over [lo, hi] (logarithmically spaced when `log`).
Histogram histogram(const std::vector<double>& x, double lo, double hi, bool log) {
  Histogram h;
  for (int i = 0; i <= kBins; ++i) {
    const double f = static_cast<double>(i) / kBins;
    h.edges.push_back(log ? lo * std::pow(hi / lo, f) : lo + f * (hi - lo));
  }
  h.counts.assign(kBins, 0.0);
  for (double v : x) {
    const double f = log ? std::log(v / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
    const int b = std::clamp(static_cast<int>(f * kBins), 0, kBins - 1);
    h.counts[static_cast<std::size_t>(b)] += 1.0;
  }
  return h;
}

plot::Panel panel_at(std::size_t index, double top) {
  plot::Panel p;
  const double col = static_cast<double>(index % kColumns);
  const double row = static_cast<double>(index / kColumns);
  p.x = 10 + col * kPanelW + 56;
  p.y = top + row * kPanelH + 30;
  p.w = kPanelW - 80;
  p.h = kPanelH - 80;
  return p;
}

void draw_histogram(plot::Figure& fig, plot::Panel& p, const Histogram& h, plot::Rgb fill) {
  double mx = 1.0;
  for (double c : h.counts) mx = std::max(mx, c);
  p.ya.lo = 0;
  p.ya.hi = mx * 1.1;
  p.ya.label = "particles";
  fig.bars(p, h.edges, h.counts, fill);
  fig.axes(p);
}

}  // namespace

std::string calibration_png(const protocol::CalibrationSpec& s,
                            const protocol::CalibrationResult& r) {
  const std::size_t np = s.parameters.size(), nc = s.cases.size();
  const double rows_p = static_cast<double>((np + kColumns - 1) / kColumns);
  const double rows_c = static_cast<double>((nc + kColumns - 1) / kColumns);
  const double cases_top = kHeader + rows_p * kPanelH + 24;
  const double width = kColumns * kPanelW + 20, height = cases_top + rows_c * kPanelH + 10;
  plot::Figure fig(width, height);
  fig.text(12, 22,
           fmt::format("Posterior of {} calibrated parameters from {} calibration cases ({} "
                       "particles, {} model evaluations{})",
                       np, nc, r.values.size(), r.smc.evaluations,
                       r.smc.complete ? "" : "; INCOMPLETE: not the posterior"),
           14, plot::HAlign::Left, plot::VAlign::Baseline, 0, true, width - 24);
  fig.text(12, 42,
           "bars: the posterior sample over the prior range; dashed: the data file's value "
           "(parameters) or the published figure's interval (cases)",
           11.5);
  const plot::Rgb shipped = plot::line_colour(5), target = plot::line_colour(5);
  for (std::size_t a = 0; a < np; ++a) {
    const auto& p = s.parameters[a];
    std::vector<double> x(r.values.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = r.values[i][a];
    plot::Panel pn = panel_at(a, kHeader);
    pn.xa.lo = p.low;
    pn.xa.hi = p.high;
    pn.xa.log = p.log;
    pn.xa.label = p.unit == "1" ? std::string("(no unit)") : p.unit;
    fig.text(pn.x - 46, pn.y - 10, p.key, 12, plot::HAlign::Left, plot::VAlign::Bottom, 0, true,
             kPanelW - 20);
    draw_histogram(fig, pn, histogram(x, p.low, p.high, p.log), plot::line_colour(0));
    fig.vmarker(pn, p.nominal, shipped);
  }
  for (std::size_t j = 0; j < nc; ++j) {
    const auto& c = s.validation.cases[s.cases[j]];
    std::vector<double> x(r.values.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = r.smc.evaluated[i].outputs[j];
    double lo = *std::min_element(x.begin(), x.end()), hi = *std::max_element(x.begin(), x.end());
    for (double b : {c.target->low, c.target->high}) {
      if (std::isfinite(b)) {
        lo = std::min(lo, b);
        hi = std::max(hi, b);
      }
    }
    const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(1e-6, 0.05 * std::abs(hi) + 1e-3);
    lo -= pad;
    hi += pad;
    plot::Panel pn = panel_at(j, cases_top);
    pn.xa.lo = lo;
    pn.xa.hi = hi;
    pn.xa.label = c.metric;
    fig.text(pn.x - 46, pn.y - 10, fmt::format("{}: {}", c.id, c.published), 12, plot::HAlign::Left,
             plot::VAlign::Bottom, 0, true, kPanelW - 20);
    draw_histogram(fig, pn, histogram(x, lo, hi, false), plot::line_colour(2));
    for (double b : {c.target->low, c.target->high}) {
      if (std::isfinite(b)) fig.vmarker(pn, b, target);
    }
  }
  return fig.png();
}

}  // namespace mnsim::report
