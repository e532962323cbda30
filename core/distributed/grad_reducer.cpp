#include "distributed/grad_reducer.h"

#include <ATen/ATen.h>

#include "distributed/dist_group.h"
#include "util/error.h"

namespace prunelab {

struct GradReducer::Impl {
  struct Slot {
    at::Tensor param;
    unsigned hook = 0;  // Tensor::register_hook's handle
    size_t bucket = 0;
    int64_t offset = 0;  // in the bucket's flat buffer
    bool ready = false;
  };
  struct Bucket {
    at::Tensor flat;
    int64_t pendingSlots = 0;  // slots not yet copied in this step
    int64_t slots = 0;
  };
  std::shared_ptr<DistGroup> group;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t nextLaunch = 0;
  bool overlap = true;
  bool inStep = false;

  void onGrad(size_t slotIndex, const at::Tensor& grad) {
    if (!inStep) return;  // a backward outside prepare()/finish() (e.g. a probe) is not reduced
    Slot& s = slots[slotIndex];
    Bucket& b = buckets[s.bucket];
    b.flat.narrow(0, s.offset, s.param.numel()).copy_(grad.reshape({-1}));
    if (!s.ready) {
      s.ready = true;
      --b.pendingSlots;
    }
    if (overlap) launchReady();
  }

  void launchReady() {
    while (nextLaunch < buckets.size() && buckets[nextLaunch].pendingSlots == 0) {
      group->allreduceSumAsync(buckets[nextLaunch].flat);
      ++nextLaunch;
    }
  }
};

GradReducer::GradReducer(std::shared_ptr<DistGroup> group, std::vector<at::Tensor> params, int64_t bucketBytes,
                         bool overlap)
    : m(std::make_unique<Impl>()) {
  if (!group) throw Error("GradReducer", "no process group");
  m->group = std::move(group);
  m->overlap = overlap;
  // Reverse order: the last layers' gradients come first in backward.
  int64_t bucketElems = 0;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const int64_t n = it->numel();
    const int64_t bytes = n * static_cast<int64_t>(it->element_size());
    if (m->buckets.empty() || (bucketElems > 0 && (bucketElems * int64_t(it->element_size()) + bytes) > bucketBytes)) {
      if (!m->buckets.empty()) m->buckets.back().flat = at::zeros({bucketElems}, params.front().options().requires_grad(false));
      m->buckets.push_back({});
      bucketElems = 0;
    }
    m->slots.push_back({*it, 0, m->buckets.size() - 1, bucketElems, false});
    ++m->buckets.back().slots;
    bucketElems += n;
  }
  if (!m->buckets.empty()) m->buckets.back().flat = at::zeros({bucketElems}, params.front().options().requires_grad(false));
  for (size_t i = 0; i < m->slots.size(); ++i) {
    Impl* impl = m.get();
    // A hook returning void leaves the gradient as it is (finish() overwrites .grad).
    m->slots[i].hook = m->slots[i].param.register_hook([impl, i](const at::Tensor& grad) { impl->onGrad(i, grad); });
  }
}

GradReducer::~GradReducer() {
  for (auto& s : m->slots) s.param.remove_hook(s.hook);
}

void GradReducer::prepare() {
  for (auto& s : m->slots) s.ready = false;
  for (auto& b : m->buckets) b.pendingSlots = b.slots;
  m->nextLaunch = 0;
  m->inStep = true;
}

void GradReducer::finish() {
  // Parameters without a gradient this step count as zeros, on every rank alike.
  for (auto& s : m->slots)
    if (!s.ready) {
      Impl::Bucket& b = m->buckets[s.bucket];
      b.flat.narrow(0, s.offset, s.param.numel()).zero_();
      s.ready = true;
      --b.pendingSlots;
    }
  m->launchReady();
  m->group->waitAll("the gradient all-reduce");
  m->inStep = false;
  const double inv = 1.0 / m->group->world();
  for (auto& b : m->buckets) b.flat.mul_(inv);
  for (auto& s : m->slots) {
    const at::Tensor avg = m->buckets[s.bucket].flat.narrow(0, s.offset, s.param.numel()).view(s.param.sizes());
    at::Tensor& g = s.param.mutable_grad();
    if (g.defined()) g.copy_(avg);
    else g = avg.clone();
  }
}

int64_t GradReducer::bucketCount() const { return static_cast<int64_t>(m->buckets.size()); }

int64_t GradReducer::elements() const {
  int64_t n = 0;
  for (const auto& b : m->buckets) n += b.flat.numel();
  return n;
}

}  // namespace prunelab
