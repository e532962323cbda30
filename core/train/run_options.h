#pragma once
// What a training run writes about itself besides weights: its options (options.json and
// each checkpoint's `trainer_options`) and its optimizer state (checkpoint tensor
// "optimizer", in LibTorch's own archive format), and reading the latter back.

#include <ATen/core/Tensor.h>

#include <string>

#include <nlohmann/json.hpp>

#include "train/trainer.h"

namespace torch::optim {
class Optimizer;
}

namespace prunelab {

// The options of a run as options.json records them; `sr` is the run's starting sr.
nlohmann::json optionsToJson(const TrainerOptions& options, double sr);

// Optimizer state <-> a byte tensor. Errors of reading name `source`.
at::Tensor serializeOptimizer(torch::optim::Optimizer& optimizer);
void deserializeOptimizer(torch::optim::Optimizer& optimizer, const at::Tensor& bytes, const std::string& source);

}  // namespace prunelab
