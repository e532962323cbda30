#include "detect/postprocess.h"

#include <ATen/ATen.h>

namespace prunelab::detect {

std::vector<std::vector<Detection>> postprocess(const at::Tensor& decodedIn, const YoloHead& head,
                                                const PostprocessOptions& o) {
  at::NoGradGuard ng;
  // -> [bs, N, 4 + nc] of (cx, cy, w, h, class scores) on the CPU
  at::Tensor d = decodedIn.detach().to(at::kCPU, at::kFloat);
  at::Tensor boxes, scores;
  if (head.style == "v5") {
    boxes = d.narrow(2, 0, 4);
    scores = d.narrow(2, 5, head.nc) * d.narrow(2, 4, 1);
  } else {
    d = d.transpose(1, 2);
    boxes = d.narrow(2, 0, 4);
    scores = d.narrow(2, 4, head.nc);
  }
  const auto best = scores.max(2);
  const at::Tensor conf = std::get<0>(best).contiguous(), cls = std::get<1>(best).contiguous();
  const at::Tensor bx = boxes.contiguous();

  std::vector<std::vector<Detection>> out(static_cast<size_t>(d.size(0)));
  for (int64_t b = 0; b < d.size(0); ++b) {
    at::Tensor keep = (conf[b] > o.confidence).nonzero().view(-1);
    if (keep.size(0) > o.maxCandidates) {
      const at::Tensor top = std::get<1>(conf[b].index_select(0, keep).topk(o.maxCandidates));
      keep = keep.index_select(0, top);
    }
    const auto* k = keep.data_ptr<int64_t>();
    const float* c = conf[b].data_ptr<float>();
    const int64_t* l = cls[b].data_ptr<int64_t>();
    const float* xywh = bx[b].data_ptr<float>();
    std::vector<Detection> cand;
    cand.reserve(static_cast<size_t>(keep.size(0)));
    for (int64_t i = 0; i < keep.size(0); ++i) {
      const int64_t a = k[i];
      const float* p = xywh + 4 * a;
      Detection det;
      det.box = {p[0] - p[2] / 2, p[1] - p[3] / 2, p[0] + p[2] / 2, p[1] + p[3] / 2};
      det.score = c[a];
      det.cls = static_cast<int>(l[a]);
      cand.push_back(det);
    }
    out[static_cast<size_t>(b)] = nonMaxSuppression(std::move(cand), o.iou, o.maxDetections);
  }
  return out;
}

}  // namespace prunelab::detect
