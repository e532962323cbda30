#pragma once
// GradReducer: averages the gradients of a set of parameters across a DistGroup the way
// PyTorch DDP does: parameters are packed into buckets (about 25 MB, in reverse order of
// registration, which is roughly the order backward produces them); a hook on each
// parameter copies its gradient into its bucket as backward computes it, and a bucket
// whose gradients are all in is all-reduced at once, while backward goes on with the
// layers before it. finish() waits for the reductions, divides by the world size and
// writes the averages to each parameter's .grad.
//
// Buckets start strictly in index order on every rank (a bucket that fills early waits
// for the ones before it), so every rank issues the same collectives in the same order.
// A parameter that got no gradient this step counts as zeros (as DDP's
// find_unused_parameters), so ranks never disagree on what is reduced.
// Threads: the training thread (CPU autograd runs hooks on the thread calling backward).
// Lifetime: the hooks stay on the parameters for the reducer's life; destroy the reducer
// before handing the parameters to anything else.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace prunelab {

class DistGroup;

class GradReducer {
 public:
  // `params`: the trainable tensors, all on one device with one dtype. `overlap` false:
  // nothing happens during backward and finish() reduces every bucket (for measuring what
  // the overlap buys).
  GradReducer(std::shared_ptr<DistGroup> group, std::vector<at::Tensor> params,
              int64_t bucketBytes = 25 * 1024 * 1024, bool overlap = true);
  ~GradReducer();

  // Before each backward: clears the buckets' bookkeeping.
  void prepare();
  // After backward: every parameter's .grad is the mean over ranks.
  void finish();

  int64_t bucketCount() const;
  int64_t elements() const;  // gradient elements reduced per step

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace prunelab
