#pragma once
// SyncBatchNorm for data-parallel training: the CrossReplicaSum a GraphModule gives its
// BatchNorm nodes (GraphModuleImpl::setCrossReplicaSum) so that training-mode BN
// normalises with the statistics of the global batch, as torch.nn.SyncBatchNorm.
// With it, N ranks x batch B train exactly as one process x batch N*B.

#include <memory>

#include "ops/op_table.h"

namespace prunelab {

class DistGroup;

// forward: all-reduce sum of the tensor; backward: all-reduce sum of its gradient.
// Every rank must run the same BatchNorm nodes in the same order (one collective each way).
CrossReplicaSum makeCrossReplicaSum(std::shared_ptr<DistGroup> group);

}  // namespace prunelab
