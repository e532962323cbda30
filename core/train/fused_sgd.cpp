#include "train/fused_sgd.h"

#include <torch/torch.h>

namespace prunelab {

void fusedSgdStep(torch::optim::SGD& optimizer) {
  torch::NoGradGuard noGrad;
  auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    std::vector<at::Tensor> params, grads, buffers;
    std::vector<at::Tensor> fresh;  // params whose momentum buffer starts this step
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      params.push_back(p);
      grads.push_back(p.grad());
    }
    if (params.empty()) continue;
    if (o.weight_decay() != 0) grads = at::_foreach_add(grads, params, o.weight_decay());
    if (o.momentum() != 0) {
      // As SGD::step(): a new buffer is a copy of the gradient; an existing one is
      // buf = momentum * buf + (1 - dampening) * grad.
      std::vector<at::Tensor> existing, existingGrads;
      for (size_t i = 0; i < params.size(); ++i) {
        const std::string key = c10::guts::to_string(params[i].unsafeGetTensorImpl());
        auto it = state.find(key);
        if (it == state.end()) {
          auto s = std::make_unique<torch::optim::SGDParamState>();
          s->momentum_buffer(grads[i].clone().detach());
          buffers.push_back(s->momentum_buffer());
          state[key] = std::move(s);
        } else {
          at::Tensor buf = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
          buffers.push_back(buf);
          existing.push_back(buf);
          existingGrads.push_back(grads[i]);
        }
      }
      if (!existing.empty()) {
        at::_foreach_mul_(existing, o.momentum());
        at::_foreach_add_(existing, existingGrads, 1.0 - o.dampening());
      }
      if (o.nesterov())
        grads = at::_foreach_add(grads, buffers, o.momentum());
      else
        grads = buffers;
    }
    at::_foreach_add_(params, grads, -o.lr());
  }
}

}  // namespace prunelab
