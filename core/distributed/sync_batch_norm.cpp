#include "distributed/sync_batch_norm.h"

#include <torch/csrc/autograd/custom_function.h>

#include "distributed/dist_group.h"

namespace prunelab {

namespace {

struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, DistGroup* group) {
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    at::Tensor y = x.clone();
    group->allreduceSum(y, "SyncBatchNorm statistics");
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<DistGroup*>(ctx->saved_data["group"].toInt());
    at::Tensor g = grads[0].clone();
    group->allreduceSum(g, "SyncBatchNorm gradients");
    return {g, at::Tensor()};
  }
};

}  // namespace

CrossReplicaSum makeCrossReplicaSum(std::shared_ptr<DistGroup> group) {
  return [group](const at::Tensor& x) { return AllReduceSum::apply(x, group.get()); };
}

}  // namespace prunelab
