#include "train/distillation.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "util/error.h"

namespace prunelab {

namespace {

std::string shapeText(const at::Tensor& t) {
  std::ostringstream s;
  s << "[";
  for (int64_t d = 0; d < t.dim(); ++d) s << (d ? ", " : "") << t.size(d);
  s << "]";
  return s.str();
}

// KL(softmax(t / T) || softmax(s / T)) along `dim`, times T^2 (not reduced along the others).
at::Tensor softmaxKl(const at::Tensor& student, const at::Tensor& teacher, double temperature, int64_t dim) {
  const at::Tensor logP = at::log_softmax(teacher.detach().to(student.scalar_type()) / temperature, dim);
  const at::Tensor logQ = at::log_softmax(student / temperature, dim);
  return (logP.exp() * (logP - logQ)).sum(dim) * (temperature * temperature);
}

}  // namespace

void checkDistillOptions(const DistillOptions& o) {
  if (!std::isfinite(o.weight) || o.weight < 0.0 || o.weight > 1.0)
    throw Error("--kd-weight", "must be between 0 and 1, got " + std::to_string(o.weight));
  if (!std::isfinite(o.temperature) || o.temperature <= 0.0)
    throw Error("--kd-temperature", "must be a positive number, got " + std::to_string(o.temperature));
}

void checkTeacherOutputs(const std::vector<at::Tensor>& student, const std::vector<at::Tensor>& teacher,
                         const std::string& teacherName) {
  if (student.size() != teacher.size())
    throw Error(teacherName, "the teacher has " + std::to_string(teacher.size()) + " outputs, the model trained has " +
                                 std::to_string(student.size()) + ": it cannot teach this model");
  for (size_t i = 0; i < student.size(); ++i)
    if (student[i].numel() > 0 && !student[i].sizes().equals(teacher[i].sizes()))
      throw Error(teacherName, "the teacher's output " + std::to_string(i) + " is " + shapeText(teacher[i]) +
                                   " where the model trained outputs " + shapeText(student[i]) +
                                   " (made for other classes or another head?)");
}

at::Tensor classificationKdTerm(const at::Tensor& student, const at::Tensor& teacher, double temperature) {
  if (student.dim() != 2 || !student.sizes().equals(teacher.sizes()))
    throw Error("distillation", "classifier logits must both be [N, C], got " + shapeText(student) + " and " +
                                    shapeText(teacher));
  return softmaxKl(student, teacher, temperature, 1).mean();
}

at::Tensor binaryKdTerm(const at::Tensor& student, const at::Tensor& teacher, double temperature) {
  // log sigmoid(x) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x): no log(0) for any logit.
  const at::Tensor a = teacher.detach().to(student.scalar_type()) / temperature;
  const at::Tensor b = student / temperature;
  const at::Tensor p = at::sigmoid(a);
  const at::Tensor kl = p * (at::softplus(-b) - at::softplus(-a)) + (1 - p) * (at::softplus(b) - at::softplus(a));
  return kl * (temperature * temperature);
}

at::Tensor detectionKdTerm(const detect::YoloHead& head, const std::vector<at::Tensor>& student,
                           const std::vector<at::Tensor>& teacher, double temperature) {
  const size_t levels = head.levels();
  if (student.size() < levels || teacher.size() < levels)
    throw Error("distillation", "the detector has " + std::to_string(levels) + " head levels, got " +
                                    std::to_string(student.size()) + " student and " + std::to_string(teacher.size()) +
                                    " teacher outputs");
  const auto fo = student.at(0).options();
  at::Tensor weighted = at::zeros({}, fo);  // the w-weighted sums (and, dfl, the class sum)
  at::Tensor weights = at::zeros({}, fo);
  at::Tensor objSum = at::zeros({}, fo);
  int64_t anchors = 0;
  for (size_t i = 0; i < levels; ++i) {
    const at::Tensor& s = student[i];
    const at::Tensor t = teacher[i].detach().to(s.scalar_type());
    if (!s.sizes().equals(t.sizes()))
      throw Error("distillation", "head level " + std::to_string(i) + ": student " + shapeText(s) + ", teacher " +
                                      shapeText(t));
    if (head.style == "dfl") {
      // [bs, 4R + nc, ny, nx] -> [bs, 4R + nc, A]
      const int64_t bs = s.size(0), r = head.regMax, a = s.size(2) * s.size(3);
      const at::Tensor sf = s.flatten(2), tf = t.flatten(2);
      const at::Tensor sCls = sf.narrow(1, 4 * r, head.nc), tCls = tf.narrow(1, 4 * r, head.nc);
      const at::Tensor w = at::sigmoid(tCls).amax(1);  // [bs, A]
      objSum = objSum + binaryKdTerm(sCls, tCls, temperature).sum();  // the class scores are the objectness
      anchors += bs * a;
      const at::Tensor boxKl = softmaxKl(sf.narrow(1, 0, 4 * r).reshape({bs, 4, r, a}),
                                         tf.narrow(1, 0, 4 * r).reshape({bs, 4, r, a}), temperature, 2)
                                   .sum(1);  // [bs, A]
      weighted = weighted + (w * boxKl).sum();
      weights = weights + w.sum();
    } else {
      // [bs, na, ny, nx, 5 + nc]
      const at::Tensor w = at::sigmoid(t.select(-1, 4));
      objSum = objSum + binaryKdTerm(s.select(-1, 4), t.select(-1, 4), temperature).sum();
      anchors += w.numel();
      const at::Tensor cls = binaryKdTerm(s.narrow(-1, 5, head.nc), t.narrow(-1, 5, head.nc), temperature).sum(-1);
      const at::Tensor box = (at::sigmoid(s.narrow(-1, 0, 4)) - at::sigmoid(t.narrow(-1, 0, 4))).pow(2).sum(-1);
      weighted = weighted + (w * (cls + box)).sum();
      weights = weights + w.sum();
    }
  }
  at::Tensor kd = weighted / weights.clamp_min(1.0);
  if (anchors > 0) kd = kd + objSum / double(anchors);
  return kd;
}

}  // namespace prunelab
