#pragma once
// What the trainer needs from a task (classification, detection): its batches, its loss
// and its validation. The trainer owns the loop, the optimizer, sparsity, checkpoints
// and logs; the task owns everything that depends on what the network predicts.
//
// Threads: every call comes from the training thread.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/batch_source.h"
#include "train/distillation.h"
#include "train/train_observer.h"

namespace prunelab {

class Graph;
struct Node;
struct NamedTensor;
class GraphModuleImpl;
class DataLoader;

// The teacher's side of one batch in a distilled run (TrainerOptions::teacher): its
// outputs on the batch's images (eval mode, no gradients) and how to mix them in.
struct DistillTargets {
  std::vector<at::Tensor> teacher;
  DistillOptions options;
};

// Validation batch sizes when the caller gives none: no backward pass, so larger than a
// training batch (a task validates with the larger of this and its training batch).
inline constexpr int64_t kValBatchClassify = 256;
inline constexpr int64_t kValBatchDetect = 32;

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual std::string kind() const = 0;  // "classify" | "detect"

  // Batches for training (`epochs` lets augmentation change near the end) and validation.
  virtual BatchSourcePtr trainSource(uint64_t seed, int epochs) const = 0;
  virtual BatchSourcePtr valSource(uint64_t seed) const = 0;
  virtual int64_t valBatchSize(int64_t trainBatch) const = 0;

  // Called once before training: checks the graph fits the data, freezes tensors the
  // task never trains (e.g. the DFL bins).
  virtual void prepare(Graph& graph) = 0;
  // False for tensors the task never trains (the optimizer leaves them out).
  virtual bool trainable(const Node&, const NamedTensor&) const { return true; }

  virtual void beginEpoch() = 0;
  // Loss of one batch from every graph output; accumulates the epoch's train stats. With
  // `distill` (not null), the loss also distils from the teacher's outputs, each task by
  // its rule in train/distillation.h, and the epoch's stats gain train/kd_loss.
  virtual at::Tensor loss(const std::vector<at::Tensor>& outputs, const Batch& batch,
                          const DistillTargets* distill) = 0;
  // Writes the train-side fields of `es` (trainLoss, trainTop1 or task metrics).
  virtual void endEpoch(EpochStats& es) = 0;

  // Validates and writes the val fields and task metrics of `es`, including es.fitness
  // (higher is better; selects best.plm).
  virtual void validate(GraphModuleImpl& module, DataLoader& val, const std::string& device, int epoch,
                        EpochStats& es) = 0;
};

}  // namespace prunelab
