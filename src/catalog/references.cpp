#include "catalog/references.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <utility>

#include "core/data_dir.hpp"
#include "core/schema.hpp"
#include "io/data_file.hpp"

namespace mnsim {

namespace {

constexpr std::array<std::string_view, 4> kTypes = {"article", "inproceedings", "misc",
                                                    "techreport"};
const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> k = {
      "type",      "authors", "organization", "cited_as", "year", "title",        "journal",
      "booktitle", "volume",  "number",       "pages",    "doi",  "howpublished", "note"};
  return k;
}

bool valid_key(std::string_view k) {
  if (k.empty() || !std::islower(static_cast<unsigned char>(k.front()))) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

/// A string field of entry `e` (named `where`): empty when absent; must be a one-line string
/// without braces (BibTeX groups) when present.
std::string text_field(const io::DataFile& f, const toml::table& e, const std::string& where,
                       const std::string& key) {
  const toml::node* n = e.get(key);
  if (!n) return {};
  const std::string full = where + "." + key;
  if (!n->is_string()) f.fail(*n, full, "expected a string", "a quoted string");
  const std::string s = n->as_string()->get();
  if (s.find_first_not_of(' ') == std::string::npos) f.fail(*n, full, "empty string", "text");
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      f.fail(*n, full, "control character in the text", "one line of text");
    }
    if (c == '{' || c == '}') {
      f.fail(*n, full, "braces are not allowed (they would change the BibTeX grouping)",
             "text without { or }");
    }
  }
  return s;
}

Reference read_entry(const io::DataFile& f, const std::string& key, const toml::node& node) {
  if (!valid_key(key)) {
    f.fail(node, key, fmt::format("'{}' is not a usable BibTeX key", key),
           "lower-case letters, digits and '_', starting with a letter (e.g. meng2022)");
  }
  if (!node.is_table()) f.fail(node, key, "expected a table", "[key] with the entry's fields");
  const toml::table& e = *node.as_table();
  for (auto&& [k, v] : e) {
    const std::string name(k.str());
    const auto& known = known_keys();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string guess = schema::suggest(name, known);
    SourceLoc at{f.path(), static_cast<int>(k.source().begin.line),
                 static_cast<int>(k.source().begin.column)};
    if (at.line == 0) at = f.loc(v);
    throw InputError(at, key + "." + name, fmt::format("unknown key '{}'", name),
                     guess.empty() ? "one of the keys listed at the top of data/references.toml"
                                   : fmt::format("did you mean '{}'?", guess));
  }
  Reference r;
  r.key = key;
  r.loc = f.loc(node);
  r.type = text_field(f, e, key, "type");
  if (r.type.empty())
    f.fail(node, key + ".type", "missing type", "article, inproceedings, misc or techreport");
  if (std::find(kTypes.begin(), kTypes.end(), r.type) == kTypes.end()) {
    f.fail(*e.get("type"), key + ".type", fmt::format("unknown type '{}'", r.type),
           "article, inproceedings, misc or techreport");
  }
  if (const toml::node* a = e.get("authors")) {
    const toml::array* arr = a->as_array();
    if (!arr || arr->empty()) {
      f.fail(*a, key + ".authors", "expected a non-empty array of names", "[\"Surname, I.\", ...]");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& n = *arr->get(i);
      const std::string where = fmt::format("{}.authors[{}]", key, i);
      if (!n.is_string()) f.fail(n, where, "expected a string", "\"Surname, I.\"");
      const std::string name = n.as_string()->get();
      const bool others = name == "others";
      if (others && i + 1 != arr->size()) {
        f.fail(n, where, "'others' before the last author", "'others' last (et al.)");
      }
      if (!others &&
          (name.find(", ") == std::string::npos || name.find_first_of("{}") != std::string::npos)) {
        f.fail(n, where, fmt::format("'{}' is not \"Surname, Initials\"", name),
               "\"Surname, I.\" or \"others\"");
      }
      r.authors.push_back(name);
    }
    if (r.authors.front() == "others") {
      f.fail(*a, key + ".authors", "no named author before 'others'", "\"Surname, I.\" first");
    }
  }
  r.organization = text_field(f, e, key, "organization");
  if (!r.authors.empty() && !r.organization.empty()) {
    f.fail(*e.get("organization"), key + ".organization", "both authors and organization",
           "one of them");
  }
  r.cited_as = text_field(f, e, key, "cited_as");
  if (r.cited_as.empty()) {
    if (r.authors.empty()) {
      f.fail(node, key + ".cited_as", "no authors and no cited_as",
             "cited_as: how the data files name this source");
    }
    r.cited_as = r.authors.front().substr(0, r.authors.front().find(", "));
  }
  if (const toml::node* y = e.get("year")) {
    const auto v = y->value<int64_t>();
    if (!y->is_integer() || *v < 1500 || *v > 2100) {
      f.fail(*y, key + ".year", "expected a year (an integer)", "e.g. 2015");
    }
    r.year = static_cast<int>(*v);
  } else if (r.type != "misc") {
    f.fail(node, key + ".year", "missing year", "the year of publication");
  }
  r.title = text_field(f, e, key, "title");
  r.journal = text_field(f, e, key, "journal");
  r.booktitle = text_field(f, e, key, "booktitle");
  if (r.type == "article" && r.journal.empty()) {
    f.fail(node, key + ".journal", "an article without a journal", "journal = \"...\"");
  }
  if (r.type == "inproceedings" && r.booktitle.empty()) {
    f.fail(node, key + ".booktitle", "a conference paper without a booktitle",
           "booktitle = \"...\"");
  }
  r.volume = text_field(f, e, key, "volume");
  r.number = text_field(f, e, key, "number");
  r.pages = text_field(f, e, key, "pages");
  r.doi = text_field(f, e, key, "doi");
  if (!r.doi.empty() && r.doi.rfind("10.", 0) != 0) {
    f.fail(*e.get("doi"), key + ".doi", fmt::format("'{}' is not a DOI", r.doi),
           "the DOI name, starting with 10.");
  }
  r.howpublished = text_field(f, e, key, "howpublished");
  r.note = text_field(f, e, key, "note");
  return r;
}

/// `s` with the characters that are special in BibTeX text (& % $ # _) escaped.
std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '&' || c == '%' || c == '$' || c == '#' || c == '_') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::vector<Reference> load_references(const std::string& path) {
  const io::DataFile f(path);
  std::vector<Reference> out;
  for (auto&& [k, node] : f.root()) out.push_back(read_entry(f, std::string(k.str()), node));
  // toml++ iterates tables in key order; the bibliography is listed in file order.
  std::stable_sort(out.begin(), out.end(), [](const Reference& a, const Reference& b) {
    return std::pair(a.loc.line, a.loc.col) < std::pair(b.loc.line, b.loc.col);
  });
  return out;
}

std::string default_references_path() {
  return data_file("references.toml").string();
}

std::string bibtex_text(const std::vector<Reference>& refs) {
  std::string out;
  for (const Reference& r : refs) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (!r.authors.empty()) {
      std::string a;
      for (const auto& name : r.authors) {
        if (!a.empty()) a += " and ";
        a += escape(name);
      }
      fields.emplace_back("author", a);
    } else if (!r.organization.empty()) {
      fields.emplace_back("author", fmt::format("{{{}}}", escape(r.organization)));
    } else {
      fields.emplace_back("key", escape(r.cited_as));
    }
    if (!r.title.empty()) fields.emplace_back("title", fmt::format("{{{}}}", escape(r.title)));
    if (!r.journal.empty()) fields.emplace_back("journal", escape(r.journal));
    if (!r.booktitle.empty()) fields.emplace_back("booktitle", escape(r.booktitle));
    if (r.type == "techreport" && !r.organization.empty()) {
      fields.emplace_back("institution", escape(r.organization));
    }
    if (r.year != 0) fields.emplace_back("year", std::to_string(r.year));
    if (!r.volume.empty()) fields.emplace_back("volume", escape(r.volume));
    if (!r.number.empty()) fields.emplace_back("number", escape(r.number));
    if (!r.pages.empty()) fields.emplace_back("pages", escape(r.pages));
    if (!r.doi.empty()) fields.emplace_back("doi", r.doi);
    if (!r.howpublished.empty()) fields.emplace_back("howpublished", escape(r.howpublished));
    if (!r.note.empty()) fields.emplace_back("note", escape(r.note));
    out += fmt::format("{}@{}{{{},\n", out.empty() ? "" : "\n", r.type, r.key);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      out += fmt::format("  {:<12} = {{{}}}{}\n", fields[i].first, fields[i].second,
                         i + 1 < fields.size() ? "," : "");
    }
    out += "}\n";
  }
  return out;
}

}  // namespace mnsim
