// Field snapshots in HDF5 with an XDMF sidecar that ParaView and VTK's Xdmf readers open as a
// time series (docs/outputs.md, "fields.h5 and fields.xmf").
//
// Layout of FILE.h5 (attribute format_version = 2):
//   /grid/x_faces, /grid/y_faces   cell faces in um (attribute units = "um")
//   /grid/z_faces                  cell faces in um, height above the unlesioned surface plane:
//                                  0 at the top, negative in the skin, increasing upward
//                                  (attributes units = "um", positive = "up")
//   /grid/layer                    uint8 [nz][ny][nx], the tissue layer of each cell; 0: outside
//                                  the tissue (air above a depressed surface); attributes
//                                  flag_values, flag_meanings, units = "1"
//   /snapshots/NNNNNN/<field>      float32 [nz][ny][nx] (k = 0 the deepest cells), NaN outside
//                                  the tissue, chunked and gzip-compressed; attribute units;
//                                  group attributes time_s, time_days, label
//   root attributes: format_version, mnsim_scenario (resolved TOML), mnsim_run (JSON metadata),
//                    mnsim_fields
// The sidecar FILE.xmf gives each snapshot a distinct time in days (xdmf_times); every grid
// carries the field arrays, `layer`, and field data time_days and snapshot.
// The file is written to disk as it is built, under a temporary name in the same folder
// (io::temporary_name), and renamed into place by close() (io::install_temporary: fsync,
// rename), so a reader never sees a half-written file, a writer that fails or is destroyed
// unclosed leaves nothing behind, and memory holds one snapshot rather than the whole file; a
// full disk is one OutputError. FILE.xmf is written with io::write_file_atomic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "grid/grid.hpp"

namespace mnsim::io {

/// A field stored in each snapshot: its name and unit (the dataset's `units` attribute).
struct StoredField {
  std::string name;
  std::string unit;
};

/// The tissue layer of every interior cell, in the order of gather_interior (i fastest, then j,
/// then k from the top of the grid). Value 0 is outside the tissue (air): every field is stored
/// as NaN there. `names[v]` names value v (flag_meanings).
struct CellLayers {
  std::vector<std::uint8_t> value;
  std::vector<std::string> names;
};

/// The time (days) fields.xmf gives each snapshot: its simulated time, except that snapshots
/// sharing a simulated time (before and after a session) are spread over the minute before it,
/// one minute apart in the order taken (less when the previous snapshot is closer), so the last
/// of them (the state that continues) keeps the exact time and every time is distinct and
/// increasing. `times_s` must be non-decreasing (the order snapshots are taken).
std::vector<double> xdmf_times(const std::vector<double>& times_s);

class FieldsWriter {
 public:
  /// Starts DIR/name.h5 (under a temporary name until close()) for the given fields of a grid
  /// and its cells' tissue layers (grid.cells() values).
  FieldsWriter(const std::filesystem::path& path, const grid::Grid& grid,
               std::vector<StoredField> fields, CellLayers layers);
  ~FieldsWriter();
  FieldsWriter(const FieldsWriter&) = delete;
  FieldsWriter& operator=(const FieldsWriter&) = delete;

  /// Stores a string attribute on the root group (scenario, metadata).
  void attribute(const std::string& name, const std::string& value);
  /// Appends one snapshot of the named fields (interior cells only). Times must not decrease.
  void snapshot(double time_s, const std::string& label, const grid::FieldSet& fields);
  /// Appends one snapshot from interior values already gathered (gather_interior order): one
  /// vector of nz*ny*nx values per field of the writer, in its order (snapshots kept by a
  /// checkpoint). Stored with k reversed (z upward) and NaN outside the tissue.
  void snapshot_values(double time_s, const std::string& label,
                       const std::vector<std::vector<float>>& values);
  const std::vector<StoredField>& fields() const { return fields_; }
  /// Flushes, closes and renames into place; writes the XDMF sidecar. Throws OutputError.
  void close();

  std::size_t snapshots() const { return times_.size(); }

 private:
  void write_header();
  void write_xdmf() const;
  /// Test hook (io::injected_write_limit): ENOSPC once the file has that many bytes.
  void check_injected_limit() const;
  /// Closes and removes the temporary file (after a failure, or destroyed unclosed).
  void abandon() noexcept;

  std::filesystem::path path_;
  std::filesystem::path tmp_;  // the file being written (renamed to path_ by close())
  std::size_t fail_after_ = 0;
  grid::Grid grid_;
  std::vector<StoredField> fields_;
  CellLayers layers_;
  std::vector<std::uint8_t> stored_layer_;  // layers_.value as stored (k reversed)
  std::vector<double> times_;
  std::vector<std::string> labels_;
  long long file_ = -1;  // hid_t
  bool closed_ = false;
};

/// Interior values (i fastest, then j, then k from the top) of the named fields.
std::vector<std::vector<float>> gather_interior(const grid::FieldSet& fields,
                                                const std::vector<std::string>& names);

/// Reads one field of one snapshot back as stored (tests, tools): nz*ny*nx values, i fastest,
/// k = 0 the deepest cells, NaN outside the tissue.
std::vector<float> read_snapshot_field(const std::filesystem::path& path, int snapshot,
                                       const std::string& field);

}  // namespace mnsim::io
