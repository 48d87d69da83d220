// Checkpoint save and restore for `mnsim run` (the file format is run/checkpoint.hpp): opening
// OUT/checkpoint when a run starts, the run state captured from the engine and the run record,
// the same put back on resume, and the stored field snapshots read back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/progress.hpp"
#include "healing/engine.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "protocol/course.hpp"
#include "run/checkpoint.hpp"
#include "run/record.hpp"

namespace mnsim {

/// InputError naming a checkpoint file that does not belong to this run.
[[noreturn]] void checkpoint_mismatch(const std::filesystem::path& file, const std::string& what);

/// Reads OUT/checkpoint/run.ckpt when `resume`; refuses a forgotten checkpoint otherwise (unless
/// `force`); leaves OUT/checkpoint empty but for the snapshots the checkpoint lists.
std::optional<RunState> open_checkpoint(bool resume, bool force, const io::OutputFolder& folder,
                                        std::uint64_t key, Progress& progress);

/// Snapshot `index` of OUT/checkpoint, checked against the run's key and what the run lists.
StoredSnapshot load_snapshot(const std::filesystem::path& out, std::size_t index, std::uint64_t key,
                             const RunState::Snapshot& expected);

/// Writes OUT/checkpoint/run.ckpt from the engine (fields, stepper) and the record. `events_done`
/// counts the scheduled events that ran; `started` and `wall_s` are metadata. The state is
/// captured here, after the file handed to `writes` before has finished (its error thrown: one
/// encoded file held at a time); the file is checksummed, written, synced and renamed into place
/// on `writes`' thread: the checkpoint is saved once `writes.wait()` returns.
void save_run_state(const std::filesystem::path& out, std::uint64_t key,
                    const healing::Engine& engine, const RunRecord& rec, std::uint64_t events_done,
                    const std::string& started, double wall_s, io::BackgroundWrites& writes);

/// Puts a checkpoint back into the engine (fields, stepper time, step, statistics, events that
/// ran) and the record, after checking it fits this run (InputError naming the file if not).
/// Session 1's punctures are not stored: the caller draws them again.
void restore_run_state(const std::filesystem::path& out, std::uint64_t key, const RunState& r,
                       const protocol::Course& course, healing::Engine& engine, RunRecord& rec);

}  // namespace mnsim
