#pragma once
// Knowledge distillation for fine-tuning a pruned model: the teacher (the model before
// the first cut) runs on the same augmented batch as the student, in eval mode and
// without gradients, and its outputs are soft targets beside the task's labels.
//
// Classifiers (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"):
//   loss = (1 - W) * CE(student, labels) + W * T^2 * KL(softmax(t / T) || softmax(s / T))
//   KL(p || q) = sum_c p_c (log p_c - log q_c), summed over classes and averaged over the
//   batch (PyTorch's kl_div reduction "batchmean"); s, t are the student's and teacher's
//   logits, [N, C]. The T^2 keeps the soft term's gradient on the scale of the CE's as T
//   grows (the gradient of the KL w.r.t. s is (q - p) / T). CE keeps the task's label
//   smoothing. With W = 1 and a teacher equal to the student the loss is 0.
//
// YOLO detectors: the detection loss stays whole and the soft term is added:
//   loss = L_det + W * batch * KD
// (L_det is ultralytics-scaled, per-image components times the batch size, so KD is too).
// KD compares the raw head outputs level by level, per anchor and image:
//   dfl (v8/11), raw [bs, 4 * reg_max + nc, ny, nx]; w = the teacher's highest class
//   probability at the anchor:
//     classes: T^2 * binary KL(sigmoid(t / T) || sigmoid(s / T)) summed over classes,
//              averaged over every anchor (background anchors included: the class scores
//              are also the objectness, and the teacher's "nothing here" is information);
//     box:     T^2 * KL(softmax(t / T) || softmax(s / T)) over each side's reg_max bins,
//              summed over the 4 sides, times w, summed over anchors (the box
//              distribution of a background anchor is noise the student should not copy);
//     KD = classes + box / max(sum of w, 1).
//   (A first version divided the class sum by the sum of w too, as ultralytics' class BCE
//   is divided by its target scores' sum: with T = 4, W = 1 the demo detector's fine-tune
//   diverged in its first epoch; averaged over anchors it does not.)
//   v5, raw [bs, na, ny, nx, 5 + nc]; w = the teacher's objectness probability:
//     objectness: T^2 * binary KL on the logit, averaged over every anchor;
//     classes:    T^2 * binary KL summed over classes, times w, summed over anchors;
//     box:        squared difference of sigmoid(x, y, w, h) (what the v5 decode reads),
//                 summed over the 4, times w, summed over anchors;
//     KD = objectness + (classes + box) / max(sum of w, 1).
//   Sums and averages run over every level and every image of the batch.
// Why divergences of the logits' own distributions rather than an MSE on raw logits: they
// are zero exactly when the student's probabilities equal the teacher's, bounded by the
// probabilities (a background logit of -12 vs -9 barely matters) and use T as the
// classifier term does.
//
// All functions are device-agnostic (the inputs' device) and differentiable w.r.t. the
// student's tensors; the teacher's are treated as constants (detached here).

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "detect/yolo_head.h"

namespace prunelab {

struct DistillOptions {
  double weight = 0.5;       // W, in [0, 1]
  double temperature = 4.0;  // T, > 0
};

// Throws prunelab::Error naming --kd-weight / --kd-temperature when out of range.
void checkDistillOptions(const DistillOptions& options);

// Throws prunelab::Error naming `teacherName` when the teacher's outputs differ in number
// or shape from the student's (e.g. a teacher made for other classes). Student outputs
// left empty in training (a detector's decoded tensor) are not compared.
void checkTeacherOutputs(const std::vector<at::Tensor>& student, const std::vector<at::Tensor>& teacher,
                         const std::string& teacherName);

// T^2 * KL(softmax(teacher / T) || softmax(student / T)), batchmean; logits [N, C].
at::Tensor classificationKdTerm(const at::Tensor& student, const at::Tensor& teacher, double temperature);

// T^2 * KL(Bernoulli(sigmoid(teacher / T)) || Bernoulli(sigmoid(student / T))) per element.
at::Tensor binaryKdTerm(const at::Tensor& student, const at::Tensor& teacher, double temperature);

// The detectors' KD above (the caller multiplies it by W and the batch size).
// `student`/`teacher`: at least head.levels() raw level outputs, in the graph's order.
at::Tensor detectionKdTerm(const detect::YoloHead& head, const std::vector<at::Tensor>& student,
                           const std::vector<at::Tensor>& teacher, double temperature);

}  // namespace prunelab
