// The bibliography of the data files (data/references.toml): one entry per primary source that a
// data file cites, printed as a BibTeX database by `mnsim catalog --bibtex` (docs/references.md).
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"

namespace mnsim {

/// One bibliography entry. Fields that are not known are empty (year 0).
struct Reference {
  std::string key;                   // the BibTeX key, e.g. "meng2022"
  std::string type;                  // article, inproceedings, misc or techreport
  std::vector<std::string> authors;  // "Surname, Initials"; "others" for et al.
  std::string organization;          // a corporate author, instead of authors
  std::string cited_as;  // how the data files name it: `cited_as`, else the first author's surname
  int year = 0;
  std::string title, journal, booktitle, volume, number, pages, doi, howpublished, note;
  SourceLoc loc;  // the entry's table header
};

/// Reads and checks a bibliography file (InputError at file:line:col and key on bad entries:
/// unknown keys, a missing type, neither authors nor organization, a year out of range...).
/// Entries in file order.
std::vector<Reference> load_references(const std::string& path);

/// data/references.toml in the data folder (core/data_dir.hpp).
std::string default_references_path();

/// The entries as a BibTeX database (UTF-8), in the given order.
std::string bibtex_text(const std::vector<Reference>& refs);

}  // namespace mnsim
