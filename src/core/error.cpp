#include "core/error.hpp"

#include <fmt/format.h>

namespace mnsim {

namespace {
std::string compose(const SourceLoc& loc, const std::string& key, const std::string& what,
                    const std::string& expected) {
  std::string out = loc.file.empty() ? std::string("<input>") : loc.file;
  if (loc.line > 0) {
    out += fmt::format(":{}:{}", loc.line, loc.col > 0 ? loc.col : 1);
  }
  out += ": ";
  out += key.empty() ? std::string("-") : key;
  out += ": ";
  out += what;
  if (!expected.empty()) out += fmt::format(" ({})", expected);
  // Keep the message on one line whatever the input contained.
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}
}  // namespace

InputError::InputError(SourceLoc loc, std::string key, std::string what, std::string expected)
    : std::runtime_error(compose(loc, key, what, expected)),
      loc_(std::move(loc)),
      key_(std::move(key)),
      problem_(std::move(what)),
      expected_(std::move(expected)) {}

std::string InputError::line() const {
  return what();
}

}  // namespace mnsim
