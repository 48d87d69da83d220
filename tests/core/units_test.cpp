#include "core/units.hpp"

#include <gtest/gtest.h>

namespace mnsim {
namespace {

TEST(Units, LengthsInEverySpelling) {
  EXPECT_DOUBLE_EQ(parse_quantity("1.5 mm", Dim::Length).si, 1.5e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("250 um", Dim::Length).si, 250e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("250 µm", Dim::Length).si, 250e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("250µm", Dim::Length).si, 250e-6);
  EXPECT_DOUBLE_EQ(parse_quantity(" 2e-1 cm ", Dim::Length).si, 2e-3);
}

TEST(Units, TimesFrequenciesForces) {
  EXPECT_DOUBLE_EQ(parse_quantity("30 min", Dim::Time).si, 1800.0);
  EXPECT_DOUBLE_EQ(parse_quantity("45 minutes", Dim::Time).si, 2700.0);
  EXPECT_DOUBLE_EQ(parse_quantity("1 minute", Dim::Time).si, 60.0);
  EXPECT_DOUBLE_EQ(parse_quantity("4 weeks", Dim::Time).si, 4 * 7 * 86400.0);
  EXPECT_DOUBLE_EQ(parse_quantity("6 months", Dim::Time).si, 0.5 * 365.25 * 86400.0);
  EXPECT_DOUBLE_EQ(parse_quantity("90 Hz", Dim::Frequency).si, 90.0);
  EXPECT_DOUBLE_EQ(parse_quantity("2 N", Dim::Force).si, 2.0);
  EXPECT_DOUBLE_EQ(parse_quantity("250 /cm^2", Dim::AreaDensity).si, 2.5e6);
  EXPECT_DOUBLE_EQ(parse_quantity("50 %", Dim::Fraction).si, 0.5);
}

TEST(Units, RejectsBadText) {
  EXPECT_FALSE(parse_quantity("1.5", Dim::Length).ok());
  EXPECT_NE(parse_quantity("1.5", Dim::Length).error.find("no unit"), std::string::npos);
  EXPECT_FALSE(parse_quantity("1.5 kg", Dim::Length).ok());
  EXPECT_FALSE(parse_quantity("mm", Dim::Length).ok());
  EXPECT_FALSE(parse_quantity("", Dim::Length).ok());
  EXPECT_FALSE(parse_quantity("1.5 mm mm", Dim::Length).ok());
  EXPECT_FALSE(parse_quantity("1e999 mm", Dim::Length).ok());
  EXPECT_FALSE(parse_quantity("4 weeks", Dim::Length).ok());
}

TEST(Units, FormatsBack) {
  EXPECT_EQ(format_quantity(1.5e-3, Dim::Length, "mm"), "1.5 mm");
  EXPECT_EQ(format_quantity(0.5, Dim::Fraction, "%"), "50 %");
}

}  // namespace
}  // namespace mnsim
