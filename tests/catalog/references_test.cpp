// The bibliography of the data files (data/references.toml, `mnsim catalog --bibtex`): every
// author and year that a data file cites has an entry, every entry is cited, malformed entries
// are refused with their file:line:col, and the BibTeX is well formed.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "catalog/references.hpp"
#include "core/error.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

using namespace mnsim;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(MNSIM_SOURCE_DIR) / "data";
const std::string kReferences = (kData / "references.toml").string();

/// One text of a data file that may cite: a `source`, `reference` or `note` string, or all the
/// comments of the file joined (a citation in a comment may wrap to the next line).
struct Text {
  std::string file;
  std::string text;
};

void collect_strings(const toml::node& n, const std::string& file, std::vector<Text>& out) {
  if (const toml::table* t = n.as_table()) {
    for (auto&& [k, v] : *t) {
      const std::string key(k.str());
      if (v.is_string() && (key == "source" || key == "reference" || key == "note")) {
        out.push_back({file, v.as_string()->get()});
      } else {
        collect_strings(v, file, out);
      }
    }
  } else if (const toml::array* a = n.as_array()) {
    for (const toml::node& v : *a) collect_strings(v, file, out);
  }
}

/// The comments of a TOML text (after a '#' outside a string), joined by spaces.
std::string comments(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t eol = std::min(text.find('\n', i), text.size());
    char quote = 0;
    for (std::size_t j = i; j < eol; ++j) {
      const char c = text[j];
      if (quote) {
        if (c == '\\' && quote == '"') {
          ++j;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        out += text.substr(j + 1, eol - j - 1) + " ";
        break;
      }
    }
    i = eol + 1;
  }
  return out;
}

std::vector<Text> data_texts() {
  std::vector<Text> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kData)) {
    if (e.path().extension() == ".toml" && e.path().filename() != "references.toml") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string text = mnsim::test::slurp(f);
    collect_strings(toml::parse(text, f.string()), f.filename().string(), out);
    out.push_back({f.filename().string(), comments(text)});
  }
  return out;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Whether `word` occurs in `text` as a whole word.
bool has_word(const std::string& text, const std::string& word) {
  for (std::size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    const bool left = p == 0 || !word_char(text[p - 1]);
    const std::size_t end = p + word.size();
    if (left && (end == text.size() || !word_char(text[end]))) return true;
  }
  return false;
}

/// A year cited in a text, with the text before it that names the authors.
struct Citation {
  int year = 0;
  std::string before;
};

/// The years 1800-2099 in `text` that stand alone (not part of a longer number, a name such as
/// majid2009, a page "86:1976" or a volume "2010:893080", a value "1969.2"), each with up to 70
/// characters before it, cut at the previous year. A year after "online" is an e-publication
/// date of the citation before it and is skipped.
std::vector<Citation> cited_years(const std::string& text) {
  std::vector<Citation> out;
  std::size_t prev_end = 0;
  for (std::size_t p = 0; p + 4 <= text.size(); ++p) {
    const std::string y = text.substr(p, 4);
    if (!std::all_of(y.begin(), y.end(), [](char c) { return std::isdigit(c); })) continue;
    if (!(y.rfind("18", 0) == 0 || y.rfind("19", 0) == 0 || y.rfind("20", 0) == 0)) continue;
    if (p > 0) {
      const char c = text[p - 1];
      if (word_char(c) || c == '.' || c == ':' || c == '/' || c == '-') continue;
    }
    const std::size_t e = p + 4;
    if (e < text.size()) {
      const char c = text[e];
      if (word_char(c)) continue;
      if ((c == '.' || c == ':') && e + 1 < text.size() &&
          std::isdigit(static_cast<unsigned char>(text[e + 1]))) {
        continue;
      }
    }
    const std::size_t from = std::max(prev_end, p >= 70 ? p - 70 : std::size_t{0});
    const std::string before = text.substr(from, p - from);
    prev_end = e;
    if (before.size() >= 7 && before.compare(before.size() - 7, 7, "online ") == 0) continue;
    out.push_back({std::stoi(y), before});
  }
  return out;
}

/// The entries that `c` can be: same year, their cited_as named just before the year.
std::vector<std::string> matches(const Citation& c, const std::vector<Reference>& refs) {
  std::vector<std::string> keys;
  for (const auto& r : refs) {
    if (r.year == c.year && has_word(c.before, r.cited_as)) keys.push_back(r.key);
  }
  return keys;
}

std::string error_of(const std::string& text) {
  const std::string path = mnsim::test::write_temp_file("mnsim_references_bad.toml", text);
  try {
    load_references(path);
  } catch (const InputError& e) {
    return e.line();
  }
  return "no error";
}

}  // namespace

TEST(References, TheScannerFindsCitationsAndSkipsNumbers) {
  const auto c = cited_years(
      "Meng Y et al. 2022, BMC Med Imaging 22:113; 1969.2 um, 86:1976, Dermatol Res Pract "
      "2010:893080, validation_majid2009.toml, Donnelly RF et al. 2011, Pharm Res 28:41 (online "
      "2010), Goodman & Baron 2006");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].year, 2022);
  EXPECT_TRUE(has_word(c[0].before, "Meng"));
  EXPECT_EQ(c[1].year, 2011);
  EXPECT_TRUE(has_word(c[1].before, "Donnelly"));
  EXPECT_EQ(c[2].year, 2006);
  EXPECT_FALSE(has_word(c[2].before, "Donnelly")) << "cut at the previous year: " << c[2].before;
  EXPECT_TRUE(has_word(c[2].before, "Goodman"));
}

TEST(References, EveryCitationInTheDataFilesHasAnEntry) {
  const auto refs = load_references(kReferences);
  std::size_t n = 0;
  for (const auto& t : data_texts()) {
    for (const auto& c : cited_years(t.text)) {
      ++n;
      EXPECT_FALSE(matches(c, refs).empty())
          << t.file << ": '..." << c.before << c.year
          << "' cites a source that data/references.toml lacks (add an entry, or give the "
             "entry's cited_as)";
    }
  }
  EXPECT_GT(n, 200u) << "the scan found too few citations to be working";
}

TEST(References, EveryEntryIsCitedByADataFile) {
  const auto refs = load_references(kReferences);
  std::set<std::string> cited;
  std::string all;
  for (const auto& t : data_texts()) {
    all += t.text + "\n";
    for (const auto& c : cited_years(t.text)) {
      for (const auto& k : matches(c, refs)) cited.insert(k);
    }
  }
  for (const auto& r : refs) {
    // An entry without a year (a web page) is cited by its name.
    const bool used = r.year == 0 ? has_word(all, r.cited_as) : cited.count(r.key) > 0;
    EXPECT_TRUE(used) << r.key << " (" << r.cited_as << " " << r.year
                      << ") is cited by no data file";
  }
}

TEST(References, ShippedBibliographyReadsInFileOrder) {
  const auto refs = load_references(kReferences);
  ASSERT_GT(refs.size(), 50u);
  EXPECT_EQ(refs.front().key, "alaluf2002");
  for (std::size_t i = 1; i < refs.size(); ++i) EXPECT_LT(refs[i - 1].loc.line, refs[i].loc.line);
  std::set<std::string> keys;
  for (const auto& r : refs) EXPECT_TRUE(keys.insert(r.key).second) << r.key;
}

TEST(References, BibtexHasEveryEntryAndItsFields) {
  const auto refs = load_references(kReferences);
  const std::string bib = bibtex_text(refs);
  for (const auto& r : refs) {
    EXPECT_NE(bib.find("@" + r.type + "{" + r.key + ",\n"), std::string::npos) << r.key;
  }
  // One entry in full: authors joined by "and", "others" for et al., the DOI as is.
  EXPECT_NE(bib.find("@article{kalluri2011,\n"
                     "  author       = {Kalluri, H. and Kolli, C. S. and Banga, A. K.},\n"
                     "  title        = {{Characterization of microchannels created by metal "
                     "microneedles: formation and closure}},\n"
                     "  journal      = {AAPS J},\n"
                     "  year         = {2011},\n"
                     "  volume       = {13},\n"
                     "  number       = {3},\n"
                     "  pages        = {473--481},\n"
                     "  doi          = {10.1208/s12248-011-9288-3}\n"
                     "}\n"),
            std::string::npos)
      << bib;
  EXPECT_NE(bib.find("author       = {Xu, H. and others}"), std::string::npos);
  EXPECT_NE(bib.find("author       = {{U.S. Food and Drug Administration}}"), std::string::npos);
  EXPECT_NE(bib.find("institution  = {U.S. Food and Drug Administration}"), std::string::npos);
  EXPECT_NE(bib.find("key          = {PRIME International}"), std::string::npos);
  // Balanced braces in every entry, and nothing outside the entries but blank lines.
  int depth = 0;
  for (const char c : bib) {
    if (c == '{') ++depth;
    if (c == '}') --depth;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
}

TEST(References, SpecialCharactersAreEscaped) {
  Reference r;
  r.key = "x2000";
  r.type = "article";
  r.authors = {"O'Hara, A.", "Smith & Sons, B."};
  r.year = 2000;
  r.title = "100% of A_b #1 costs $5";
  r.journal = "J";
  const std::string bib = bibtex_text({r});
  EXPECT_NE(bib.find("{O'Hara, A. and Smith \\& Sons, B.}"), std::string::npos) << bib;
  EXPECT_NE(bib.find("{{100\\% of A\\_b \\#1 costs \\$5}}"), std::string::npos) << bib;
}

TEST(References, MalformedEntriesNameFileLineAndKey) {
  const std::string ok =
      "[a2000]\ntype = \"article\"\nauthors = [\"A, B.\"]\nyear = 2000\n"
      "journal = \"J\"\n";
  EXPECT_EQ(error_of(ok), "no error");
  const auto bad = [&](const std::string& from, const std::string& to) {
    std::string t = ok;
    const auto p = t.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    t.replace(p, from.size(), to);
    return error_of(t);
  };
  const std::string f = (fs::temp_directory_path() / "mnsim_references_bad.toml").string();
  EXPECT_EQ(bad("type = \"article\"", "type = \"book\""),
            f + ":2:8: a2000.type: unknown type 'book' (article, inproceedings, misc or "
                "techreport)");
  EXPECT_EQ(bad("year = 2000", "yeer = 2000"),
            f + ":4:1: a2000.yeer: unknown key 'yeer' (did you mean 'year'?)");
  EXPECT_NE(bad("year = 2000", "year = \"2000\"").find(":4:8: a2000.year: expected a year"),
            std::string::npos);
  EXPECT_NE(bad("year = 2000\n", "").find(":1:1: a2000.year: missing year"), std::string::npos);
  EXPECT_NE(bad("[\"A, B.\"]", "[\"Anon\"]").find("a2000.authors[0]: 'Anon' is not"),
            std::string::npos);
  EXPECT_NE(bad("[\"A, B.\"]", "[\"others\", \"A, B.\"]").find("'others' before the last"),
            std::string::npos);
  EXPECT_NE(bad("authors = [\"A, B.\"]\n", "").find("no authors and no cited_as"),
            std::string::npos);
  EXPECT_NE(bad("journal = \"J\"\n", "").find("an article without a journal"), std::string::npos);
  EXPECT_NE(bad("journal = \"J\"", "journal = \"J {x}\"").find("braces are not allowed"),
            std::string::npos);
  EXPECT_NE(bad("journal = \"J\"", "journal = \"J\"\ndoi = \"doi:10.1/x\"").find("is not a DOI"),
            std::string::npos);
  EXPECT_NE(bad("[a2000]", "[A2000]").find("'A2000' is not a usable BibTeX key"),
            std::string::npos);
  EXPECT_NE(error_of("[a2000\n").find(":1:"), std::string::npos);  // TOML syntax
}

TEST(References, CatalogBibtexOnTheCommandLine) {
  auto r = mnsim::test::run_cli({"catalog", "--bibtex"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, bibtex_text(load_references(kReferences)));
  EXPECT_NE(mnsim::test::run_cli({"catalog"}).out.find("mnsim catalog --bibtex"),
            std::string::npos);
  // A topic and --bibtex: refused, one line, exit 2.
  r = mnsim::test::run_cli({"catalog", "sites", "--bibtex"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("--bibtex"), std::string::npos) << r.err;
  // A malformed bibliography: the file's error, exit 2.
  const fs::path dir = fs::temp_directory_path() / "mnsim_references_data";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(kData, dir, fs::copy_options::recursive);
  {
    std::string text = mnsim::test::slurp(dir / "references.toml");
    text += "\n[broken2000]\ntype = \"article\"\n";
    std::ofstream(dir / "references.toml") << text;
  }
  mnsim::test::CliOptions o;
  o.env = {"MNSIM_DATA_DIR=" + dir.string()};
  r = mnsim::test::run_cli({"catalog", "--bibtex"}, o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("references.toml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("broken2000"), std::string::npos) << r.err;
  fs::remove_all(dir);
}
