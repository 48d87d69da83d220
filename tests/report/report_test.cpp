#include "report/report.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "report/plot.hpp"
#include "report/sample_data.hpp"

namespace fs = std::filesystem;
using namespace mnsim::report;

using mnsim::test::slurp;

namespace {

struct PngSize {
  unsigned w = 0, h = 0;
};

// Reads width and height from a PNG's IHDR chunk; fails the test if the header is wrong.
PngSize png_size(const std::string& bytes) {
  static const std::string sig = "\x89PNG\r\n\x1a\n";
  EXPECT_GE(bytes.size(), 33u);
  if (bytes.size() < 33) return {};
  EXPECT_EQ(bytes.substr(0, 8), sig);
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  auto be32 = [&](std::size_t o) {
    return (static_cast<unsigned>(static_cast<unsigned char>(bytes[o])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[o + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[o + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(bytes[o + 3]));
  };
  return {be32(16), be32(20)};
}

class TempDir {
 public:
  TempDir() {
    path_ =
        fs::temp_directory_path() /
        ("mnsim_report_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const char* const kFigures[] = {"scar_profiles", "puncture_density", "depth_histogram",
                                "time_courses", "cross_section"};

// The page without `from`...`to` blocks.
std::string cut(const std::string& html, const std::string& from, const std::string& to) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = html.find(from, at);
    out += html.substr(at, open == std::string::npos ? std::string::npos : open - at);
    if (open == std::string::npos) break;
    const std::size_t close = html.find(to, open + from.size());
    if (close == std::string::npos) break;
    at = close + to.size();
  }
  return out;
}

// The page's text and attributes without its <pre> blocks (the resolved scenario and the run
// metadata, shown as written) and without the base64 of its images.
std::string without_pre(const std::string& html) {
  return cut(cut(html, "<pre>", "</pre>"), "src=\"data:", "\"");
}

// Units written the ASCII way ("um", "cm^2", "mm^3") instead of the report's style (µm, cm²,
// mm³): each occurrence with a few characters around it.
std::vector<std::string> ascii_units(const std::string& text) {
  std::vector<std::string> found;
  auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t at = text.find("um"); at != std::string::npos; at = text.find("um", at + 1)) {
    // "um" as a word after a number or a space: "300 um", "300um", "(um)".
    const bool word =
        (at == 0 || !letter(text[at - 1])) && (at + 2 >= text.size() || !letter(text[at + 2]));
    if (word) found.push_back(text.substr(at >= 12 ? at - 12 : 0, 20));
  }
  for (const char* bad : {"^2", "^3"})
    for (std::size_t at = text.find(bad); at != std::string::npos; at = text.find(bad, at + 1))
      found.push_back(text.substr(at >= 12 ? at - 12 : 0, 16));
  return found;
}

// The alt texts of the page's figures.
std::vector<std::string> alt_texts(const std::string& html) {
  std::vector<std::string> alts;
  for (std::size_t at = html.find(" alt=\""); at != std::string::npos;
       at = html.find(" alt=\"", at + 1)) {
    const std::size_t end = html.find('"', at + 6);
    alts.push_back(html.substr(at + 6, end - at - 6));
  }
  return alts;
}

// A word of letters joined by underscores ("inflammatory_signal"): a code name.
bool has_code_name(const std::string& s) {
  for (std::size_t i = 1; i + 1 < s.size(); ++i)
    if (s[i] == '_' && std::isalpha(static_cast<unsigned char>(s[i - 1])) &&
        std::isalpha(static_cast<unsigned char>(s[i + 1])))
      return true;
  return false;
}

bool close(plot::Rgb a, plot::Rgb b, double tol = 2.5 / 255) {
  return std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol;
}

}  // namespace

TEST(ReportHtml, EscapesAndEncodes) {
  EXPECT_EQ(html_escape("<script>alert(1)</script> & \"q\" 'a'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;");
  EXPECT_EQ(html_escape("\u00b5m cm\u00b2"), "\u00b5m cm\u00b2");  // valid UTF-8 kept
  EXPECT_EQ(html_escape(std::string("a\xff"
                                    "b\xc3",
                                    4)),
            "a?b?");  // invalid bytes replaced
  EXPECT_EQ(html_escape(std::string("a\0b", 3)), "a?b");
  EXPECT_EQ(html_escape("\xc0\xaf"), "??");  // overlong '/'
  // RFC 4648 section 10 test vectors.
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(ReportPlot, Ticks) {
  EXPECT_EQ(plot::linear_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const auto t = plot::linear_ticks(-0.3, 0.3, 6);
  const std::vector<double> want = {-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3};
  ASSERT_EQ(t.size(), want.size());
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], want[i], 1e-12);
  EXPECT_EQ(t[3], 0.0);
  EXPECT_FALSE(std::signbit(t[3]));  // no "-0"
  const auto lt = plot::log_ticks(1, 1000);
  ASSERT_EQ(lt.size(), 10u);
  EXPECT_DOUBLE_EQ(lt[0], 1);
  EXPECT_DOUBLE_EQ(lt[1], 2);
  EXPECT_DOUBLE_EQ(lt[2], 5);
  EXPECT_DOUBLE_EQ(lt[9], 1000);
  // Many decades: only decade ticks, at most ~9 of them.
  const auto wide = plot::log_ticks(1e-6, 1e6);
  EXPECT_LE(wide.size(), 9u);
  for (double v : wide) EXPECT_NEAR(std::log10(v), std::round(std::log10(v)), 1e-9);
  EXPECT_EQ(plot::tick_label(0.30000000000000004, 0.1, false), "0.3");
  EXPECT_EQ(plot::tick_label(1500, 500, false), "1500");
  EXPECT_EQ(plot::tick_label(1e-6, 0, true), "1e-6");
  EXPECT_EQ(plot::tick_label(0.01, 0, true), "0.01");
  EXPECT_TRUE(plot::linear_ticks(1, 1, 5).empty());
  EXPECT_TRUE(plot::log_ticks(0, 10).empty());
}

TEST(ReportPlot, ViridisEnds) {
  EXPECT_TRUE(close(plot::viridis(0), {0x44 / 255.0, 0x01 / 255.0, 0x54 / 255.0}, 1e-12));
  EXPECT_TRUE(close(plot::viridis(1), {0xfd / 255.0, 0xe7 / 255.0, 0x25 / 255.0}, 1e-12));
  EXPECT_TRUE(close(plot::viridis(0.5), {0x21 / 255.0, 0x91 / 255.0, 0x8c / 255.0}, 1e-12));
  EXPECT_TRUE(close(plot::viridis(-3), plot::viridis(0), 0));
  // Perceptual order: luminance grows monotonically along the map.
  double prev = -1;
  for (int k = 0; k <= 64; ++k) {
    const auto c = plot::viridis(k / 64.0);
    const double y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    EXPECT_GT(y, prev);
    prev = y;
  }
}

// Heat-map orientation: row 0 of the data is at the top for depth axes, at the bottom otherwise;
// NaN cells show the grey background.
TEST(ReportPlot, HeatmapOrientationAndNaN) {
  for (bool down : {true, false}) {
    plot::Figure f(100, 100, 1);
    plot::Panel p;
    p.x = 10;
    p.y = 10;
    p.w = 80;
    p.h = 80;
    p.xa = {0, 2, false, false, ""};
    p.ya = {0, 2, false, down, ""};
    const std::vector<float> v = {0.0f, NAN, 1.0f, 1.0f};  // row 0: (0, NaN), row 1: (1, 1)
    EXPECT_TRUE(f.heatmap(p, 2, 2, 0, 0, 1, 1, v, 0, 1));
    const double top = 30, bottom = 70, left = 30, right = 70;
    const double row0 = down ? top : bottom, row1 = down ? bottom : top;
    EXPECT_TRUE(close(f.pixel(left, row0), plot::viridis(0))) << down;
    EXPECT_TRUE(close(f.pixel(left, row1), plot::viridis(1))) << down;
    EXPECT_TRUE(close(f.pixel(right, row1), plot::viridis(1))) << down;
    EXPECT_TRUE(close(f.pixel(right, row0), {0.86, 0.86, 0.86})) << down;
    EXPECT_TRUE(close(f.pixel(5, 5), {1, 1, 1}));  // outside the panel stays white
  }
}

TEST(Report, WritesFullReport) {
  TempDir tmp;
  const ReportData d = sample::sample_report_data();
  write_report(d, tmp.path());
  const std::string html = slurp(tmp.path() / "report.html");
  ASSERT_FALSE(html.empty());

  // Self-contained: every src/href is a data: URL; no script element at all.
  // (Scanned by hand: std::regex recurses per character and overflows on base64 strings.)
  int n_attr = 0;
  for (const std::string key : {"src=\"", "href=\""}) {
    for (std::size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
      ++n_attr;
      EXPECT_EQ(html.compare(at + key.size(), 5, "data:"), 0) << html.substr(at, 80);
    }
  }
  EXPECT_EQ(html.find("src='"), std::string::npos);
  EXPECT_EQ(html.find("href='"), std::string::npos);
  EXPECT_GE(n_attr, 6);  // icon + five figures
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);

  // The title and other scenario text are escaped.
  const std::string esc = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;";
  EXPECT_NE(html.find("<h1 id=\"title\">" + esc + "</h1>"), std::string::npos);
  EXPECT_NE(html.find("<title>" + esc), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold?&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("follow-up &amp; photographs &lt;assessment&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/pre&gt;&lt;script&gt;alert(2)"), std::string::npos);

  // The consultation part first, the technical part after: sections in this order.
  const char* order[] = {"id=\"consultation\"", "id=\"summary\"",
                         "id=\"outcome\"",      "id=\"fig-scar_profiles\"",
                         "id=\"side-effects\"", "id=\"safety\"",
                         "id=\"uncertainty\"",  "id=\"calendar\"",
                         "id=\"disclaimer\"",   "id=\"technical\"",
                         "id=\"scenario\"",     "id=\"punctures\"",
                         "id=\"time-courses\"", "id=\"cross-section\"",
                         "id=\"outcomes\"",     "id=\"run\""};
  std::size_t prev = 0;
  for (const char* s : order) {
    const std::size_t at = html.find(s);
    ASSERT_NE(at, std::string::npos) << s;
    EXPECT_GT(at, prev) << s;
    prev = at;
  }
  EXPECT_NE(html.find("Goodman &amp; Baron quantitative score"), std::string::npos);
  EXPECT_NE(html.find("2026-03-02"), std::string::npos);

  // The consultation in plain words: each scar before and after with its change, the grade
  // change, side effects, safety, the uncertainty statement and a disclaimer.
  EXPECT_NE(html.find("<td>Boxcar scar 1 (punched-out acne scar), 1.4 mm wide</td><td "
                      "class=\"num\">280 \u00b5m</td><td class=\"num\">202 \u00b5m</td><td "
                      "class=\"change\">28 % shallower</td>"),
            std::string::npos);
  EXPECT_NE(html.find("Mean scar depth below the surrounding skin: 320 \u00b5m before treatment, "
                      "250 \u00b5m at the end of follow-up (22 % shallower)."),
            std::string::npos);
  EXPECT_NE(html.find("3 (moderate) before, 2 (mild) after; scar score 14 before, 9 after"),
            std::string::npos);
  // Next to the score: its rows before and after, and why it moved.
  EXPECT_NE(html.find("<ul id=\"score-rows\">\n<li>punched-out, shallow base (2 points): 2 -&gt; 1 "
                      "scars, 2 -&gt; 2 points</li>"),
            std::string::npos);
  EXPECT_NE(html.find("<p id=\"score-change\" class=\"note\">The score fell from 14 to 9 (4 "
                      "scars shallower"),
            std::string::npos);
  EXPECT_NE(html.find("<td>Visible redness (erythema) after each session</td><td>3.1 days</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>Skin barrier closed again after each session</td><td>31 h</td>"),
            std::string::npos);
  EXPECT_NE(html.find("1.2 % (within the 5 % accepted for this skin type)"), std::string::npos);
  EXPECT_NE(html.find("Fitzpatrick skin type III"), std::string::npos);
  EXPECT_NE(html.find("No puncture went past the dermis into the fat."), std::string::npos);
  EXPECT_NE(html.find("Made-up sample: no band."), std::string::npos);
  EXPECT_NE(html.find("not medical advice"), std::string::npos);
  EXPECT_NE(html.find("Known limitations and open points"), std::string::npos);
  EXPECT_NE(html.find("Notes stay text: &lt;b&gt;bold?&lt;/b&gt;"), std::string::npos);

  // The calendar: one row per visit ("Session 1" once), whole days, the assessment last.
  const std::size_t cal = html.find("id=\"calendar\"");
  const std::string calendar = html.substr(cal, html.find("</section>", cal) - cal);
  EXPECT_EQ(calendar.find("Session 1"), calendar.rfind("Session 1"));
  EXPECT_NE(calendar.find("<td>Session 3</td><td>2026-03-02</td><td class=\"num\">56</td>"),
            std::string::npos);
  EXPECT_NE(calendar.find("<td>Outcome assessment</td><td>2026-05-31</td><td "
                          "class=\"num\">146</td>"),
            std::string::npos)
      << calendar;
  EXPECT_EQ(calendar.find("146.4"), std::string::npos);

  // One unit style outside the scenario as written: µm, cm², mm³.
  EXPECT_EQ(ascii_units(without_pre(html)), std::vector<std::string>{});
  // Figures described in words: no field code names, no axis labelled "1".
  const auto alts = alt_texts(html);
  EXPECT_EQ(alts.size(), 5u);
  for (const auto& a : alts) {
    EXPECT_FALSE(has_code_name(a)) << a;
    EXPECT_EQ(a.find("; 1)"), std::string::npos) << a;
    EXPECT_NE(a.find("Panels: "), std::string::npos) << a;
  }
  EXPECT_NE(html.find("Fibroblasts (cells/mm\u00b3) (time (days); cells/mm\u00b3)"),
            std::string::npos);

  // Every figure: a PNG file with plausible size, embedded with matching logical size, and an
  // SVG of the same logical size beside it.
  for (const char* name : kFigures) {
    const std::string svg = slurp(tmp.path() / "figures" / (std::string(name) + ".svg"));
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u) << name;
    EXPECT_NE(svg.find("<svg"), std::string::npos) << name;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << name;
    EXPECT_GT(svg.size(), 2000u) << name;
    const fs::path file = tmp.path() / "figures" / (std::string(name) + ".png");
    ASSERT_TRUE(fs::exists(file)) << name;
    const std::string png = slurp(file);
    const PngSize s = png_size(png);
    EXPECT_GE(s.w, 600u) << name;
    EXPECT_LE(s.w, 4000u) << name;
    EXPECT_GE(s.h, 400u) << name;
    EXPECT_LE(s.h, 4000u) << name;
    const std::string tag = "<figure id=\"fig-" + std::string(name) +
                            "\"><img src=\"data:image/png;base64," + base64(png) + "\" width=\"" +
                            std::to_string(s.w / 2) + "\" height=\"" + std::to_string(s.h / 2) +
                            "\"";
    EXPECT_NE(html.find(tag), std::string::npos) << name;
    EXPECT_NE(svg.find("width=\"" + std::to_string(s.w / 2) + "px\""), std::string::npos)
        << name << ": " << svg.substr(0, 300);
  }
  // No SVG in the page: it stays self-contained with inline PNGs only.
  EXPECT_EQ(html.find("image/svg"), std::string::npos);
}

// A run that says nothing of its spread gets a plain statement, never an invented band; a PIH
// risk above the skin type's limit and punctures into the fat are called out.
TEST(Report, ConsultationStatesWhatIsNotKnownAndCallsOutRisks) {
  TempDir tmp;
  ReportData d = sample::sample_report_data();
  d.consultation.uncertainty.clear();
  d.consultation.pih_risk = 0.08;
  d.consultation.past_dermis_fraction = 0.25;
  d.warnings = {"25% of the punctures reached past the dermis."};
  d.calendar = {{1, "", 0, "Microneedling"}, {2, "", 28, "Microneedling"}, {0, "", 182.6, "end"}};
  write_report(d, tmp.path());
  const std::string html = slurp(tmp.path() / "report.html");
  EXPECT_NE(html.find("No uncertainty band was computed for this prediction"), std::string::npos);
  EXPECT_NE(html.find("8.0 % (above the 5 % accepted for this skin type)"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"caution\">The risk of darker patches"), std::string::npos);
  EXPECT_NE(html.find("25.0 % of the punctures went past the dermis into the fat. See the "
                      "warning at the top."),
            std::string::npos);
  // The red callout stays at the top, before the consultation.
  EXPECT_LT(html.find("<p class=\"warning\" role=\"alert\">"), html.find("id=\"consultation\""));
  // Without a start date: weeks, whole days.
  EXPECT_NE(html.find("<th>When</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>Session 2</td><td>week 4</td><td class=\"num\">28</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>Outcome assessment</td><td>week 26.1</td><td class=\"num\">183</td>"),
            std::string::npos);
}

TEST(Report, CopesWithEmptyData) {
  TempDir tmp;
  write_report(ReportData{}, tmp.path());
  const std::string html = slurp(tmp.path() / "report.html");
  EXPECT_NE(html.find("Untitled scenario"), std::string::npos);
  EXPECT_NE(html.find("The scenario has no scars."), std::string::npos);
  EXPECT_NE(html.find("No time courses were recorded."), std::string::npos);
  EXPECT_NE(html.find("No description of the treatment was given."), std::string::npos);
  EXPECT_NE(html.find("No side effects were computed."), std::string::npos);
  EXPECT_NE(html.find("No needle depths were computed."), std::string::npos);
  EXPECT_NE(html.find("No uncertainty band was computed"), std::string::npos);
  EXPECT_NE(html.find("not medical advice"), std::string::npos);
  EXPECT_EQ(html.find("id=\"grades\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"calendar\""), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(tmp.path() / "figures"));
  EXPECT_TRUE(fs::is_empty(tmp.path() / "figures"));
}

TEST(Report, SkipsNonFiniteAndRemovesStaleFigures) {
  TempDir tmp;
  write_report(sample::sample_report_data(), tmp.path());
  ASSERT_TRUE(fs::exists(tmp.path() / "figures" / "scar_profiles.png"));

  ReportData d = sample::sample_report_data();
  d.scars.clear();
  d.consultation.scars.clear();
  d.calendar.clear();
  for (float& v : d.cross_section_before.v) v = NAN;  // all NaN: "no data" panel, after drawn
  for (float& v : d.puncture_density.v) v = NAN;      // all NaN: no figure
  for (auto& s : d.series) s.value[3] = NAN;          // a gap in every line
  d.depth_counts[2] = NAN;
  write_report(d, tmp.path());
  const std::string html = slurp(tmp.path() / "report.html");
  EXPECT_FALSE(fs::exists(tmp.path() / "figures" / "scar_profiles.png"));
  EXPECT_FALSE(fs::exists(tmp.path() / "figures" / "scar_profiles.svg"));
  EXPECT_FALSE(fs::exists(tmp.path() / "figures" / "puncture_density.png"));
  EXPECT_FALSE(fs::exists(tmp.path() / "figures" / "puncture_density.svg"));
  EXPECT_TRUE(fs::exists(tmp.path() / "figures" / "cross_section.png"));
  EXPECT_TRUE(fs::exists(tmp.path() / "figures" / "time_courses.png"));
  EXPECT_TRUE(fs::exists(tmp.path() / "figures" / "depth_histogram.png"));
  EXPECT_NE(html.find("No puncture density map is available."), std::string::npos);
  EXPECT_NE(html.find("The scenario has no scars."), std::string::npos);
  EXPECT_EQ(html.find("id=\"calendar\""), std::string::npos);
}

TEST(Report, RejectsInconsistentData) {
  TempDir tmp;
  ReportData d = sample::sample_report_data();
  d.puncture_density.v.pop_back();
  EXPECT_THROW(write_report(d, tmp.path()), std::invalid_argument);
  d = sample::sample_report_data();
  d.depth_edges_um.pop_back();
  EXPECT_THROW(write_report(d, tmp.path()), std::invalid_argument);
  d = sample::sample_report_data();
  d.series[0].value.pop_back();
  EXPECT_THROW(write_report(d, tmp.path()), std::invalid_argument);
  d = sample::sample_report_data();
  d.scars[1].after_um.pop_back();
  EXPECT_THROW(write_report(d, tmp.path()), std::invalid_argument);
  d = sample::sample_report_data();
  d.cross_section_after.outline.pop_back();
  EXPECT_THROW(write_report(d, tmp.path()), std::invalid_argument);
  EXPECT_FALSE(fs::exists(tmp.path()));  // nothing written
}

TEST(Report, OutputErrorWhenFolderIsAFile) {
  TempDir tmp;
  fs::create_directories(tmp.path());
  { std::ofstream(tmp.path() / "file") << "x"; }
  EXPECT_THROW(write_report(sample::sample_report_data(), tmp.path() / "file"), mnsim::OutputError);
}

// Degenerate but valid data: one cell, constant values, one point, all-zero counts, a scar
// profile with only "before", a log-range series with zeros, more layers than colours.
TEST(Report, DrawsDegenerateData) {
  TempDir tmp;
  ReportData d;
  d.title = "degenerate";
  d.puncture_density =
      Map2D{1, 1, 0, 0, 1, 1, "x (mm)", "y (mm)", "per cm\u00b2", false, {5.0f}, {}};
  d.cross_section_before =
      Map2D{3, 2, 0, 0, 0.5, 100, "x", "depth", "v", true, {1, 1, 1, 1, 1, 1}, {}};
  d.depth_edges_um = {0, 10};
  d.depth_counts = {0};
  d.series.push_back(Series{"single", "", "u", {3.0}, {7.0}});
  d.series.push_back(Series{"zeros and decades", "a", "u", {0, 1, 2, 3}, {0, 1e3, 1, 0}});
  for (int l = 0; l < 9; ++l)
    d.series.push_back(
        Series{"many layers", "layer " + std::to_string(l), "u", {0, 1}, {1.0 * l, 2.0 * l}});
  d.session_days = {-5, 1, 1e9};  // partly outside the time range: skipped
  d.scars.push_back(ScarProfile{"only before", "rolling", {-1, 0, 1}, {0, 50, 0}, {}});
  d.scars.push_back(ScarProfile{"", "flat", {0}, {}, {}});  // no profile: "no profile" panel
  write_report(d, tmp.path());
  for (const char* name : kFigures) {
    const std::string png = slurp(tmp.path() / "figures" / (std::string(name) + ".png"));
    const PngSize s = png_size(png);
    EXPECT_GT(s.w, 100u) << name;
    EXPECT_GT(s.h, 100u) << name;
  }
  const std::string html = slurp(tmp.path() / "report.html");
  EXPECT_NE(html.find("Logarithmic value axis for: zeros and decades"), std::string::npos);
}

// Lines: NaN breaks a line (nothing drawn across the gap), a lone point shows as a dot, and on a
// log axis a zero runs off the bottom edge.
TEST(ReportPlot, LineGapsAndDots) {
  plot::Figure f(100, 100, 1);
  plot::Panel p;
  p.x = 0;
  p.y = 0;
  p.w = 100;
  p.h = 100;
  p.xa = {0, 10, false, false, ""};
  p.ya = {0, 10, false, false, ""};
  const plot::Rgb c{0, 0, 1};
  f.line(p, {1, 3, 5, 7, 9}, {5, 5, NAN, 5, 5}, c, 2, false);
  EXPECT_TRUE(close(f.pixel(20, 50), c));          // inside the first segment
  EXPECT_TRUE(close(f.pixel(50, 50), {1, 1, 1}));  // the gap stays white
  EXPECT_TRUE(close(f.pixel(80, 50), c));
  f.line(p, {5}, {2}, c, 2, false);  // lone point at (50, 80)
  EXPECT_TRUE(close(f.pixel(50, 80), c));
  EXPECT_TRUE(close(f.pixel(50, 70), {1, 1, 1}));

  plot::Figure g(100, 100, 1);
  p.ya = {1, 100, true, false, ""};
  // From y = 10 (middle) towards a zero, drawn at 1e-3 (2 decades per 100 px below y = 1: at
  // y = 250 px), so the segment leaves the panel through the bottom edge at x = 25 px.
  g.line(p, {0, 10}, {10, 0}, c, 2, false);
  EXPECT_TRUE(close(g.pixel(0.5, 50), c, 0.2));
  EXPECT_TRUE(close(g.pixel(24, 98), c, 0.2));
  EXPECT_TRUE(close(g.pixel(60, 99), {1, 1, 1}));
}

// Two lines with the same data: the one drawn second does not hide the first (their dash
// patterns and markers differ), and a styled legend entry shows the marker.
TEST(ReportPlot, CoincidingLinesStayVisible) {
  plot::Figure f(200, 100, 1);
  plot::Panel p;
  p.x = 0;
  p.y = 0;
  p.w = 200;
  p.h = 100;
  p.xa = {0, 10, false, false, ""};
  p.ya = {0, 10, false, false, ""};
  const plot::LineStyle a = plot::series_style(0), b = plot::series_style(1);
  EXPECT_NE(a.dash, b.dash);
  EXPECT_NE(a.marker, b.marker);
  EXPECT_NE(a.marker_phase, b.marker_phase);
  f.line(p, {0, 10}, {5, 5}, a);
  f.line(p, {0, 10}, {5, 5}, b);
  int na = 0, nb = 0;
  const plot::Raster ras = f.raster();
  for (double x = 0.5; x < 200; x += 1) {
    for (double y = 44; y <= 56; y += 1) {
      const plot::Rgb c = ras.at(x, y);
      na += close(c, a.colour, 0.08) ? 1 : 0;
      nb += close(c, b.colour, 0.08) ? 1 : 0;
    }
  }
  EXPECT_GT(na, 40) << "the first line is hidden";
  EXPECT_GT(nb, 40);
  // The same two lines both solid without markers: the second hides the first (what the styles
  // prevent).
  plot::Figure g(200, 100, 1);
  g.line(p, {0, 10}, {5, 5}, a.colour, 2, false);
  g.line(p, {0, 10}, {5, 5}, b.colour, 2, false);
  int hidden = 0;
  const plot::Raster gr = g.raster();
  for (double x = 0.5; x < 200; x += 1) hidden += close(gr.at(x, 50), a.colour, 0.08) ? 1 : 0;
  EXPECT_EQ(hidden, 0);
}

// The SVG is the same drawing as the PNG: vectors, with the figure's logical size.
TEST(ReportPlot, SvgBesideThePng) {
  plot::Figure f(120, 80);
  plot::Panel p;
  p.x = 20;
  p.y = 10;
  p.w = 90;
  p.h = 50;
  p.xa = {0, 1, false, false, "time (days)"};
  p.ya = {0, 1, false, false, "mg/mL"};
  p.title = "Collagen I (mg/mL)";
  f.line(p, {0, 1}, {0, 1}, plot::series_style(0));
  f.axes(p);
  const std::string svg = f.svg();
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("width=\"120px\" height=\"80px\""), std::string::npos) << svg.substr(0, 300);
  EXPECT_NE(svg.find("<path"), std::string::npos);
  const PngSize s = png_size(f.png());
  EXPECT_EQ(s.w, 240u);
  EXPECT_EQ(s.h, 160u);
  // A heat map: an embedded image scaled without smoothing, as in the PNG. Drawn twice in one
  // process (cairo's own ids count on), the SVG is the same bytes.
  auto heat = [] {
    plot::Figure h(100, 100);
    plot::Panel q;
    q.x = 10;
    q.y = 10;
    q.w = 80;
    q.h = 80;
    q.xa = {0, 2, false, false, "x (mm)"};
    q.ya = {0, 2, false, true, "depth (\u00b5m)"};
    h.heatmap(q, 2, 2, 0, 0, 1, 1, {0.0f, NAN, 1.0f, 0.5f}, 0, 1);
    h.axes(q);
    return h.svg();
  };
  const std::string h1 = heat();
  EXPECT_NE(h1.find("<image image-rendering=\"optimizeSpeed\""), std::string::npos);
  EXPECT_EQ(heat(), h1);
}
