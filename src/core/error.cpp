#include "core/error.hpp"

#include <fmt/format.h>

#include <cstdint>

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
  // Keep the message on one line and printable whatever the input contained.
  return printable(out);
}

/// Length of the valid UTF-8 sequence (2 to 4 bytes, no C1 control) starting at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  const std::uint32_t min = n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u;
  if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) return 0;  // overlong etc.
  if (cp >= 0x80u && cp <= 0x9Fu) return 0;                                      // C1 controls
  return n;
}
}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = c >= 0x80 ? utf8_sequence(text, i) : 0; n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

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
