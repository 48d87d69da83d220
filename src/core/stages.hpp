// Where a command's stages of items are computed (docs/scaling.md, "State folders"). A command
// whose work is a sequence of stages, each a list of independent items whose results decide the
// next stage's items (the planner's stages, the calibration sampler's batches), hands each stage
// to a StageRunner: item i's result as bytes (it depends only on i and the inputs), every item's
// bytes back in item order. Without a runner a command computes the stage itself (threads, MPI
// ranks: core/ranks.hpp); io::StateFolder is the runner of a job array, which replays the stages
// already computed from their files and computes one shard of the first stage not yet computed.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.hpp"

namespace mnsim {

class StageRunner {
 public:
  virtual ~StageRunner() = default;
  /// The next stage of the command (the runner counts them: the first call is stage 1): `n`
  /// items, `item(i)` the bytes of item i (safe to call from several threads), `stage` what the
  /// items are ("model evaluations"). Returns every item's bytes in item order, or throws
  /// StagePending where this process does not compute the stage.
  virtual std::vector<std::string> run(std::size_t n,
                                       const std::function<std::string(std::size_t)>& item,
                                       int threads, Progress* progress, std::string_view stage) = 0;
};

/// Thrown by a StageRunner to end the command at a stage it does not compute whole here (a
/// shard of it was written, or it waits for its shards): not an error. what(): the one-line
/// report for the user.
class StagePending : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mnsim
