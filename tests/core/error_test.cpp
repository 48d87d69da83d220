// Error lines stay one printable line whatever bytes the input held.
#include "core/error.hpp"

#include <gtest/gtest.h>

namespace mnsim {
namespace {

TEST(Printable, EscapesControlBytesAndInvalidUtf8KeepsValidUtf8) {
  EXPECT_EQ(printable("\x89PNG\r\n\x1a\n"), "\\x89PNG  \\x1a ");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("tab\there"), "tab here");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("1.5 \xc2\xb5m, 30 \xc2\xb0"), "1.5 \xc2\xb5m, 30 \xc2\xb0");  // µm, °
  EXPECT_EQ(printable("\xc2\x85"), "\\xc2\\x85");                // U+0085, a C1 control
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");       // a UTF-16 surrogate
  EXPECT_EQ(printable("\xe2\x82"), "\\xe2\\x82");                // truncated sequence
  EXPECT_EQ(printable("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  // U+1F600 is kept
}

TEST(Printable, InputErrorLinesAreEscaped) {
  const InputError e({"\x89PNG.toml", 1, 1}, "(file)", "bad \x01 byte", "exp\x1b[31m");
  EXPECT_EQ(e.line(), "\\x89PNG.toml:1:1: (file): bad \\x01 byte (exp\\x1b[31m)");
}

}  // namespace
}  // namespace mnsim
