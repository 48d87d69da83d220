// Writes the synthetic sample report (tests/report/sample_data.hpp) to a folder, for the browser
// test and for looking at the layout:  build/release/tests/report_sample build/sample_report
#include <cstdio>
#include <exception>

#include "report/report.hpp"
#include "report/sample_data.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: report_sample DIR\n");
    return 2;
  }
  try {
    mnsim::report::write_report(mnsim::report::sample::sample_report_data(), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::printf("%s/report.html\n", argv[1]);
  return 0;
}
