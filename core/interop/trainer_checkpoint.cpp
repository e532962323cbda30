#include "interop/trainer_checkpoint.h"

#include <ATen/ATen.h>

#include <chrono>
#include <ctime>
#include <map>
#include <set>

#include "interop/checkpoint_yaml.h"
#include "interop/torch_modules.h"
#include "interop/torchvision_tree.h"
#include "io/py_tree.h"
#include "io/torch_pickle.h"
#include "io/torch_save.h"
#include "models/yolo/yolo_checkpoint.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::string modelName(const Graph& g) { return g.metadata().count("model") ? g.metadata().at("model") : "model"; }

std::string family(const Graph& g) {
  const auto it = g.metadata().find(kPtFamilyKey);
  return it == g.metadata().end() ? std::string() : it->second;
}

std::string nowIso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::localtime(&t));
  return buf;
}

PyRef attr(const PyRef& module, const char* name) { return pyDictGet(pyObjectDict(module), name); }
int64_t intAttr(const PyRef& module, const char* name, int64_t fallback) {
  const PyRef v = attr(module, name);
  return v && v->kind == PyValue::Kind::Int ? v->integer : fallback;
}
PyRef child(const PyRef& module, const std::string& name) {
  for (const auto& [k, c] : moduleChildren(module))
    if (k == name) return c;
  return nullptr;
}
at::Tensor convWeight(const PyRef& convModule) {  // ultralytics/yolov5 Conv: .conv.weight; or a Conv2d
  PyRef conv = pyShortClassName(convModule) == "Conv2d" ? convModule : child(convModule, "conv");
  const PyRef w = pyDictGet(pyDictGet(pyObjectDict(conv), "_parameters"), "weight");
  return w && w->kind == PyValue::Kind::Tensor ? w->tensor : at::Tensor();
}

// ultralytics modules whose forward splits cv1's output in two halves of `c` channels.
bool splitsInHalves(const std::string& cls) {
  static const std::set<std::string> names = {"C2f", "C3k2", "C2PSA", "C2fPSA", "C2fAttn", "C2fCIB"};
  return names.count(cls) != 0;
}

// Widths of composite modules that their forward reads: C2f-family `c`, attention heads.
void updateCompositeWidths(const Graph& g, const std::string& path, const PyRef& m) {
  const std::string cls = pyShortClassName(m);
  if (splitsInHalves(cls) && attr(m, "c")) {
    int64_t a = -1, b = -1;
    for (const Node& n : g.nodes())
      if (n.op == OpKind::Split && (n.scope == path + ".chunk" || n.scope == path + ".split")) {
        const auto sizes = n.attrs.getInts("split", {});
        if (sizes.size() == 2) a = sizes[0], b = sizes[1];
      }
    if (a < 0) {
      const at::Tensor w = convWeight(child(m, "cv1"));
      if (!w.defined()) return;
      a = b = w.size(0) / 2;
      if (w.size(0) % 2) b = a + 1;
    }
    if (a != b)
      throw Error(path + " (" + cls + ")",
                  "cv1's output is split into halves of " + std::to_string(a) + " and " + std::to_string(b) +
                      " channels; ultralytics' " + cls + ".forward cuts it into two equal halves (chunk(2, 1)), "
                      "so this plan cannot be written in the ultralytics format: plan with equal halves "
                      "(prunelab-cli prune keeps them equal for ultralytics models)");
    pyDictSet(pyObjectDict(m), "c", pyInt(a));
  }
  if (cls == "Attention" && attr(m, "num_heads")) {
    const int64_t heads = intAttr(m, "num_heads", 1), keyDim = intAttr(m, "key_dim", 0),
                  headDim = intAttr(m, "head_dim", 0);
    const at::Tensor qkv = convWeight(child(m, "qkv")), proj = convWeight(child(m, "proj"));
    if (qkv.defined() && proj.defined() &&
        (qkv.size(0) != heads * (2 * keyDim + headDim) || proj.size(1) != heads * headDim))
      throw Error(path + " (Attention)", "its channels were pruned, which changes the head sizes its forward reshapes "
                                         "to: not expressible; protect this block when planning");
  }
}

// Detect / the model: class-count attributes after a transfer to other classes.
void updateClassAttributes(const Graph& g, const PyRef& model, const std::string& fam) {
  const auto it = g.metadata().find("num_classes");
  if (it == g.metadata().end()) return;
  const int64_t nc = std::stoll(it->second);
  forEachModule(model, [&](const std::string&, const PyRef& m) {
    const std::string cls = pyShortClassName(m);
    if ((cls == "Detect" || cls == "Segment" || cls == "Pose") && intAttr(m, "nc", nc) != nc) {
      const int64_t extra = fam == "yolov5" ? 5 : 4 * intAttr(m, "reg_max", 16);
      pyDictSet(pyObjectDict(m), "nc", pyInt(nc));
      pyDictSet(pyObjectDict(m), "no", pyInt(nc + extra));
    }
  });
  if (const PyRef yaml = attr(model, "yaml"); yaml && yaml->kind == PyValue::Kind::Dict && pyDictGet(yaml, "nc"))
    pyDictSet(yaml, "nc", pyInt(nc));
  if (attr(model, "nc")) pyDictSet(pyObjectDict(model), "nc", pyInt(nc));
  const std::vector<std::string> names = classNames(g);
  if (!names.empty()) {
    const PyRef old = attr(model, "names");
    PyRef fresh;
    if (old && old->kind == PyValue::Kind::List) {
      std::vector<PyRef> items;
      for (const auto& n : names) items.push_back(pyStr(n));
      fresh = pyList(items);
    } else {
      fresh = pyDict();
      for (size_t i = 0; i < names.size(); ++i) fresh->entries.emplace_back(pyInt(static_cast<int64_t>(i)), pyStr(names[i]));
    }
    pyDictSet(pyObjectDict(model), "names", fresh);
  }
}

// The graph's tensors into the template's module tree (keeping each tensor's dtype), then
// every width attribute from them.
void writeBack(const Graph& g, const PyRef& model, const std::string& fam) {
  std::map<std::string, at::Tensor> sd;
  for (auto& [k, t] : g.stateDict()) sd[k] = t;
  std::map<std::string, const Node*> byScope;
  for (const Node& n : g.nodes())
    if (n.op == OpKind::Conv || n.op == OpKind::BatchNorm || n.op == OpKind::Linear) byScope.emplace(n.scope, &n);
  std::set<std::string> used;
  std::vector<std::pair<std::string, PyRef>> modules;
  forEachModule(model, [&](const std::string& path, const PyRef& m) {
    modules.emplace_back(path, m);
    for (const char* dict : {"_parameters", "_buffers"}) {
      const PyRef d = pyDictGet(pyObjectDict(m), dict);
      if (!d) continue;
      for (auto& [k, v] : d->entries) {
        if (!v || v->kind != PyValue::Kind::Tensor || k->kind != PyValue::Kind::String) continue;
        const std::string key = path.empty() ? k->text : path + "." + k->text;
        const auto it = sd.find(key);
        if (it == sd.end())
          throw Error(modelName(g), "the kept object tree has " + key + ", which the model does not: "
                                    "the tree and the model disagree (reopen the .pt it came from)");
        auto t = std::make_shared<PyValue>(*v);
        t->tensor = it->second.detach().to(at::kCPU, v->tensor.scalar_type()).contiguous().clone();
        v = t;
        used.insert(key);
      }
    }
  });
  for (const auto& [k, t] : sd)
    if (!used.count(k))
      throw Error(modelName(g), "the model's tensor " + k + " has no place in the kept object tree");
  for (auto it = modules.rbegin(); it != modules.rend(); ++it) {  // children before their parents
    const auto n = byScope.find(it->first);
    if (!updateLeafWidths(it->second, n == byScope.end() ? nullptr : n->second))
      updateCompositeWidths(g, it->first, it->second);
    // yolov5/ultralytics layers keep their parameter count (`np`) for the model summary.
    if (const PyRef np = attr(it->second, "np"); np && np->kind == PyValue::Kind::Int) {
      int64_t count = 0;
      for (const Node& node : g.nodes())
        if (node.scope == it->first || node.scope.rfind(it->first + ".", 0) == 0)
          for (const NamedTensor& t : node.tensors)
            if (!t.isBuffer) count += t.tensor.numel();
      pyDictSet(pyObjectDict(it->second), "np", pyInt(count));
    }
  }
  updateClassAttributes(g, model, fam);
}

PyRef prunedBy(const Graph& g, const PtWriteOptions& o) {
  PyRef d = pyDict();
  pyDictSet(d, "name", pyStr("PruneLab"));
  pyDictSet(d, "version", pyStr(PRUNELAB_VERSION));
  pyDictSet(d, "plan", pyStr(o.plan));
  pyDictSet(d, "params", pyInt(g.parameterCount()));
  if (g.metadata().count("source")) pyDictSet(d, "source", pyStr(g.metadata().at("source")));
  return d;
}

}  // namespace

const char* ptFormatName(PtFormat f) {
  switch (f) {
    case PtFormat::Yolov5: return "yolov5";
    case PtFormat::Ultralytics: return "ultralytics";
    case PtFormat::Torch: return "torch";
  }
  return "?";
}

std::optional<PtFormat> parsePtFormat(const std::string& name) {
  for (PtFormat f : {PtFormat::Yolov5, PtFormat::Ultralytics, PtFormat::Torch})
    if (name == ptFormatName(f)) return f;
  return std::nullopt;
}

PtFormat homeFormat(const Graph& g) {
  const std::string fam = family(g);
  if (fam == "yolov5") return PtFormat::Yolov5;
  if (fam == "ultralytics") return PtFormat::Ultralytics;
  return PtFormat::Torch;
}

std::string ptFormatUnavailable(const Graph& g, PtFormat format) {
  const std::string fam = family(g);
  if (format == PtFormat::Torch) {
    if (!fam.empty() || isTorchvisionResNetLayout(g)) return "";
    return "no torch.nn class layout is known for " + modelName(g) +
           " (the zoo's ResNets and models opened from a yolov5/ultralytics .pt have one); export TorchScript instead";
  }
  if (fam == ptFormatName(format)) return "";
  if (fam.empty())
    return std::string("writing a ") + ptFormatName(format) + " checkpoint needs the model opened from a " +
           ptFormatName(format) + " .pt (its object tree is written back); this model was not";
  return "the model came from a " + fam + " checkpoint; its classes are " + fam + "'s, not " + ptFormatName(format) + "'s";
}

PyRef trainerCheckpointTree(const Graph& g, PtFormat format, const PtWriteOptions& o, PtWriteReport* report) {
  if (const std::string why = ptFormatUnavailable(g, format); !why.empty()) throw Error(modelName(g), why);
  const std::string fam = family(g);
  if (fam.empty()) {  // a synthesised torchvision ResNet
    PyRef root = pyDict();
    pyDictSet(root, "epoch", pyInt(-1));
    pyDictSet(root, "model", torchvisionResNetTree(g));
    pyDictSet(root, "ema", pyNone());
    pyDictSet(root, "optimizer", pyNone());
    pyDictSet(root, "date", pyStr(nowIso()));
    pyDictSet(root, "version", pyStr(PRUNELAB_VERSION));
    pyDictSet(root, "pruned_by", prunedBy(g, o));
    return root;
  }
  const PyRef root = unpackPyTree(g.metadata().at(kPtTemplateKey), modelName(g));
  const PyRef model = pyDictGet(root, "model");
  if (!isPyObject(model)) throw Error(modelName(g), "the kept object tree has no model");
  writeBack(g, model, fam);
  // The stock trainers rebuild the model from this dict: it states the pruned widths when it can.
  const CheckpointYaml yaml = checkpointYaml(g, attr(model, "yaml"));
  if (yaml.rewritten) pyDictSet(pyObjectDict(model), "yaml", yaml.dict);
  if (report) {
    report->yaml = describeCheckpointYaml(yaml);
    report->yamlComplete = !yaml.dict || yaml.matching == yaml.tensors;
  }
  pyDictSet(root, "epoch", pyInt(-1));
  pyDictSet(root, "ema", pyNone());
  pyDictSet(root, "optimizer", pyNone());
  if (pyDictGet(root, "updates")) pyDictSet(root, "updates", pyNone());
  pyDictSet(root, "date", pyStr(nowIso()));
  if (!pyDictGet(root, "version")) pyDictSet(root, "version", pyStr(PRUNELAB_VERSION));
  pyDictSet(root, "pruned_by", prunedBy(g, o));
  return root;
}

PtWriteReport writeTrainerCheckpoint(const Graph& g, const std::string& path, PtFormat format, const PtWriteOptions& o) {
  PtWriteReport report;
  const PyRef tree = trainerCheckpointTree(g, format, o, &report);
  writeTorchSave(path, tree);
  return report;
}

PtReadBack readTrainerCheckpoint(const std::string& path) {
  const PyRef root = readTorchPickle(path);
  PyRef model;
  if (isPyObject(root)) model = root;
  for (const char* key : {"ema", "model"})
    if (!model)
      if (const PyRef v = pyDictGet(root, key); isPyObject(v)) model = v;
  if (!model) throw Error(path, "holds no pickled model under 'ema' or 'model'");
  PtReadBack r;
  r.modelClass = pyClassName(model);
  r.stateDict = moduleStateDict(model, path);
  forEachModule(model, [&](const std::string& p, const PyRef& m) {
    checkLeafWidths(p.empty() ? "(model)" : p, m, r.problems);
    const std::string cls = pyShortClassName(m);
    if (splitsInHalves(cls) && attr(m, "c")) {
      const at::Tensor w = convWeight(child(m, "cv1"));
      if (w.defined() && w.size(0) != 2 * intAttr(m, "c", -1))
        r.problems.push_back(p + " (" + cls + "): c " + std::to_string(intAttr(m, "c", -1)) + ", cv1 gives " +
                             std::to_string(w.size(0)) + " channels (two halves of c expected)");
    }
  });
  return r;
}

}  // namespace prunelab
