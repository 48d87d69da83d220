// State folders: a command whose stages depend on each other (`mnsim plan`, `mnsim calibrate`) run
// as job arrays (docs/scaling.md, "State folders"). Every task of stage k runs the command with
// `--state DIR --shard i/N`: it replays stages 1..k-1 from their closed files in DIR (the
// command's own code between the stages runs again on the same bytes, so it asks for the same
// stage k), computes shard i of stage k (items e with e mod N = i - 1) and leaves it in DIR;
// `mnsim merge FILE --state DIR` closes stage k from its shards (every shard of one split once,
// the same key, each file whole: io::read_shards) and says whether the run needs another stage.
// Once it does not, the command run with `--state DIR` and no --shard replays every stage and
// writes its outputs, byte for byte those of the run in one process.
//
// DIR holds
//   state.json                     {"mnsim_state": KIND, "key": "<16 hex>", "closed_stages": k,
//                                   "finished": bool} (the key names the input: file, data, build)
//   stage-0001/closed/             the closed stage: shard.json and shard.rec of "shard 1/1"
//   stage-0002/shard-2-of-3/       a shard of an open stage (io/shards.hpp)
// Each stage's key mixes the input's key, the stage's number and item count, and the bytes of
// every earlier stage: a shard or a closed stage of another input, build or history is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/stages.hpp"

namespace mnsim::io {

/// The key of a state folder's input: the command, the input file's bytes, `extra` (the --set
/// overrides as given), every file of the data folder (core/data_dir.hpp) and the build.
/// InputError naming the file if it cannot be read.
std::uint64_t state_input_key(std::string_view command, const std::filesystem::path& file,
                              std::string_view extra);

class StateFolder final : public StageRunner {
 public:
  enum class Mode {
    Shard,   // compute shard i/N of the first open stage, then StagePending
    Close,   // close the first open stage from its shards (merge), then StagePending or finish
    Replay,  // every stage closed: replay them all (the outputs are written after)
  };
  /// Opens state folder `dir` of `command` ("plan", "calibrate") for the input with `key`.
  /// InputError at --state for: a file that is not a folder, a folder that holds other files
  /// than a state's, a state of another command, input or build. Shard creates the folder and
  /// its state.json. `file` is the input file as given (for the hints of the messages).
  StateFolder(std::filesystem::path dir, std::string command, std::string file, std::uint64_t key,
              Mode mode, int shard = 0, int shards = 0);

  std::vector<std::string> run(std::size_t n, const std::function<std::string(std::size_t)>& item,
                               int threads, Progress* progress, std::string_view stage) override;

  /// After the command ran to its end in Shard or Close mode: the run needs no other stage.
  /// Close records it in state.json. Returns the line to print.
  std::string finish();
  /// Replay: InputError at --state unless the state says finished (checked before an output
  /// folder is opened).
  void require_finished() const;
  /// Stages seen so far (closed or not).
  std::size_t stages() const { return stage_; }

 private:
  std::filesystem::path stage_dir(std::size_t k) const;
  void write_state(std::size_t closed, bool finished) const;
  std::string merge_hint() const;
  std::string shard_hint() const;

  std::filesystem::path dir_;
  std::string command_, file_;
  std::uint64_t key_ = 0, chain_ = 0;
  Mode mode_;
  int shard_ = 0, shards_ = 0;
  std::size_t stage_ = 0;
  std::size_t closed_now_ = 0;  // Close: the stage this merge closed (0: none yet)
  bool finished_ = false;       // state.json says so
};

}  // namespace mnsim::io
