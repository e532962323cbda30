#include "eval/detection_predictor.h"

#include <torch/torch.h>

#include <algorithm>
#include <opencv2/core.hpp>

#include "data/detection/detection_augment.h"
#include "data/detection/detection_batches.h"
#include "detect/yolo_head.h"
#include "exec/graph_module.h"
#include "graph/graph.h"
#include "graph/input_shape.h"
#include "util/error.h"

namespace prunelab {

struct DetectionPredictor::Impl {
  std::shared_ptr<Graph> graph;
  detect::YoloHead head;
  PredictOptions options;
  GraphModule module{nullptr};
};

DetectionPredictor::DetectionPredictor(std::shared_ptr<Graph> graph, const PredictOptions& options)
    : m(std::make_unique<Impl>()) {
  if (!graph) throw Error("predict", "no model");
  m->graph = std::move(graph);
  m->head = detect::readYoloHead(*m->graph);
  m->options = options;
  if (m->options.imgsz <= 0) {  // the model's recorded input size, else 640 (as validation)
    const Shape in = defaultInputShape(*m->graph);
    m->options.imgsz = in.size() == 3 ? static_cast<int>(in[1]) : 640;
  }
  if (m->options.imgsz % 32 != 0) throw Error("--imgsz", "must be a positive multiple of 32 (the largest stride)");
  m->module = GraphModule(m->graph);
  m->module->to(torch::Device(m->options.device));
  m->module->eval();
}

DetectionPredictor::~DetectionPredictor() = default;

int DetectionPredictor::imageSize() const { return m->options.imgsz; }
int DetectionPredictor::numClasses() const { return static_cast<int>(m->head.nc); }

std::vector<std::vector<Detection>> DetectionPredictor::predict(const std::vector<cv::Mat>& rgb) const {
  if (rgb.empty()) return {};
  const int s = m->options.imgsz;
  const auto n = static_cast<int64_t>(rgb.size());
  at::Tensor input = at::empty({n, 3, s, s});
  std::vector<LetterboxGeometry> geometry;
  for (int64_t i = 0; i < n; ++i) {
    const cv::Mat& image = rgb[static_cast<size_t>(i)];
    if (image.type() != CV_8UC3 || image.empty()) throw Error("predict", "expects 8-bit 3-channel images");
    geometry.push_back(letterboxGeometry(image.cols, image.rows, s));
    writeNetworkInput(evalLetterbox(image, {}, s).image, input[i].data_ptr<float>());
  }
  torch::NoGradGuard noGrad;
  const auto outs = m->module->forward(std::vector<at::Tensor>{input.to(torch::Device(m->options.device))});
  auto dets = detect::postprocess(outs.back(), m->head, m->options.post);
  for (size_t i = 0; i < dets.size(); ++i) dets[i] = toImagePixels(std::move(dets[i]), geometry[i]);
  return dets;
}

std::vector<Detection> toImagePixels(std::vector<Detection> detections, const LetterboxGeometry& g) {
  const auto back = [&](float v, double pad, int limit) {
    return static_cast<float>(std::clamp((double(v) - pad) / g.scale, 0.0, double(limit)));
  };
  for (Detection& d : detections) {
    d.box.x1 = back(d.box.x1, g.padX, g.width);
    d.box.x2 = back(d.box.x2, g.padX, g.width);
    d.box.y1 = back(d.box.y1, g.padY, g.height);
    d.box.y2 = back(d.box.y2, g.padY, g.height);
  }
  return detections;
}

}  // namespace prunelab
