#include "train/run_options.h"

#include <torch/torch.h>

#include <cstring>
#include <sstream>

#include "util/error.h"

namespace prunelab {

// Optimizer state <-> bytes, through LibTorch's own archive format.
at::Tensor serializeOptimizer(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::ostringstream os;
  archive.save_to(os);
  const std::string s = os.str();
  at::Tensor t = at::empty({static_cast<int64_t>(s.size())}, at::kByte);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

void deserializeOptimizer(torch::optim::Optimizer& opt, const at::Tensor& bytes, const std::string& source) {
  std::istringstream is(std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel())));
  torch::serialize::InputArchive archive;
  withErrorContext(source, [&] {
    archive.load_from(is);
    opt.load(archive);
  });
}

nlohmann::json optionsToJson(const TrainerOptions& o, double sr) {
  nlohmann::json j = {{"epochs", o.epochs},
          {"batch", o.batchSize},
          {"optimizer", o.optimizer},
          {"lr", o.lr},
          {"momentum", o.momentum},
          {"nesterov", o.nesterov},
          {"weight_decay", o.weightDecay},
          {"schedule", o.schedule.kind},
          {"warmup_epochs", o.schedule.warmupEpochs},
          {"label_smoothing", o.labelSmoothing},
          {"sr", sr},
          {"sr_beta", o.sparsity.srBeta},
          {"sr_targeted", o.sparsity.targeted},
          {"sr_linear_decay", o.sparsity.linearDecay},
          {"sr_exclude", o.sparsity.exclude},
          {"freeze", o.freeze},
          {"train_only", o.trainOnly},
          {"seed", o.seed},
          {"sparsity_target", o.autopilot.target},
          {"sparsity_by_epoch", o.autopilot.byEpoch},
          {"sparsity_threshold", o.autopilot.threshold}};
  if (o.teacher) {
    j["teacher"] = o.teacherName;
    j["kd_weight"] = o.distill.weight;
    j["kd_temperature"] = o.distill.temperature;
  }
  return j;
}

}  // namespace prunelab
