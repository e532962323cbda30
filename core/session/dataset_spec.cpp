#include "session/dataset_spec.h"

#include <filesystem>
#include <sstream>

#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

bool isYoloData(const std::string& spec) {
  const fs::path p(spec);
  if (p.extension() == ".yaml" || p.extension() == ".yml") return true;
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::exists(p / "data.yaml", ec);
}

int64_t OpenedData::numClasses() const {
  return task == TaskKind::Detect ? det.val->numClasses() : cls.train->numClasses();
}

int64_t OpenedData::channels() const { return task == TaskKind::Detect ? 3 : cls.train->image(0).channels; }

std::string OpenedData::description() const {
  std::ostringstream d;
  if (task == TaskKind::Detect)
    d << spec.spec << ": " << det.train->size() << " train / " << det.val->size() << " val images, " << numClasses()
      << " classes";
  else
    d << spec.spec << ": " << cls.train->size() << " train / " << cls.val->size() << " val images, " << numClasses()
      << " classes";
  return d.str();
}

OpenedData openData(const DataSpec& spec) {
  OpenedData d;
  d.spec = spec;
  if (!spec.task.empty() && spec.task != "detect" && spec.task != "classify")
    throw Error("--task", "must be classify or detect, got '" + spec.task + "'");
  if (spec.trainLimit < 0) throw Error("--train-limit", "must be positive (0 = all images)");
  if (spec.valLimit < 0) throw Error("--val-limit", "must be positive (0 = all images)");
  const bool yolo = isYoloData(spec.spec);
  const bool detect = spec.task.empty() ? yolo : spec.task == "detect";
  if (detect) {
    if (!yolo)
      throw Error(spec.spec.empty() ? "--data" : spec.spec,
                  "detection needs a YOLO data.yaml (make one with: prunelab-cli make-dataset fashion-det --out DIR)");
    d.task = TaskKind::Detect;
    d.det = openYoloData(spec.spec, static_cast<size_t>(spec.trainLimit), static_cast<size_t>(spec.valLimit));
    return d;
  }
  d.cls = openClassificationData(spec.spec);
  d.cls.train = limitDataset(d.cls.train, static_cast<size_t>(spec.trainLimit), spec.seed + 1);
  d.cls.val = limitDataset(d.cls.val, static_cast<size_t>(spec.valLimit), spec.seed + 2);
  return d;
}

std::vector<std::string> dataReport(const OpenedData& data, size_t maxWarnings) {
  std::vector<std::string> lines;
  if (data.task != TaskKind::Detect) return lines;
  const std::pair<const char*, DetectionDatasetPtr> splits[] = {
      {"train", data.det.train}, {"val", data.det.val}, {"test", data.det.test}};
  for (const auto& [name, split] : splits) {
    if (!split) continue;
    const LabelCheck& c = split->labelCheck();
    for (size_t i = 0; i < c.warnings.size() && i < maxWarnings; ++i) lines.push_back("warning: " + c.warnings[i]);
    if (c.warnings.size() > maxWarnings)
      lines.push_back("warning: ... and " + std::to_string(c.warnings.size() - maxWarnings) + " more skipped images");
    lines.push_back(c.summary(name));
  }
  return lines;
}

std::vector<std::string> dataSpecArguments(const DataSpec& spec) {
  const auto list = [](const std::vector<float>& v) {
    std::ostringstream os;
    os.precision(9);
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    return os.str();
  };
  std::vector<std::string> a{"--data", spec.spec, "--seed", std::to_string(spec.seed)};
  if (!spec.task.empty()) a.insert(a.end(), {"--task", spec.task});
  if (spec.trainLimit > 0) a.insert(a.end(), {"--train-limit", std::to_string(spec.trainLimit)});
  if (spec.valLimit > 0) a.insert(a.end(), {"--val-limit", std::to_string(spec.valLimit)});
  if (spec.input.imgsz > 0) a.insert(a.end(), {"--imgsz", std::to_string(spec.input.imgsz)});
  a.insert(a.end(), {"--normalize", spec.input.normalize});
  if (!spec.input.mean.empty()) a.insert(a.end(), {"--mean", list(spec.input.mean)});
  if (!spec.input.std.empty()) a.insert(a.end(), {"--std", list(spec.input.std)});
  return a;
}

void classifyTransforms(const OpenedData& data, int64_t modelChannels, TransformOptions& trainT,
                        TransformOptions& evalT) {
  if (data.task != TaskKind::Classify || !data.cls.train) throw Error("data", "no classification data open");
  defaultTransforms(*data.cls.train, modelChannels, trainT, evalT, data.spec.input);
}

}  // namespace prunelab
