#include "interop/torch_modules.h"

#include <ATen/ATen.h>

#include "io/py_tree.h"
#include "io/torch_pickle.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::vector<int64_t> pair(const Node& n, const char* name, int64_t fallback) {
  std::vector<int64_t> v = n.attrs.getInts(name, {fallback, fallback});
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() == 4) {  // ONNX pads [top, left, bottom, right]: PyTorch needs them symmetric
    if (v[0] != v[2] || v[1] != v[3]) throw Error(n.name, "asymmetric padding has no torch.nn.Conv2d form");
    v.resize(2);
  }
  return v;
}

at::Tensor tensorOf(const PyRef& module, const char* dict, const char* name) {
  const PyRef v = pyDictGet(pyDictGet(pyObjectDict(module), dict), name);
  return v && v->kind == PyValue::Kind::Tensor ? v->tensor : at::Tensor();
}

int64_t intAttr(const PyRef& module, const char* name, int64_t fallback) {
  const PyRef v = pyDictGet(pyObjectDict(module), name);
  return v && v->kind == PyValue::Kind::Int ? v->integer : fallback;
}

void addTensors(const PyRef& m, const Node& n) {
  for (const NamedTensor& t : n.tensors) {
    if (t.isBuffer) addBuffer(m, t.name, t.tensor.detach());
    else addParameter(m, t.name, t.tensor.detach());
  }
}

}  // namespace

PyRef torchConv2d(const Node& n) {
  const at::Tensor& w = n.tensor("weight");
  const int64_t groups = n.attrs.getInt("groups", 1);
  const auto padding = pair(n, "padding", 0);
  PyRef m = pyModule("torch.nn.modules.conv.Conv2d");
  setModuleAttr(m, "in_channels", pyInt(w.size(1) * groups));
  setModuleAttr(m, "out_channels", pyInt(w.size(0)));
  setModuleAttr(m, "kernel_size", pyIntTuple({w.size(2), w.size(3)}));
  setModuleAttr(m, "stride", pyIntTuple(pair(n, "stride", 1)));
  setModuleAttr(m, "padding", pyIntTuple(padding));
  setModuleAttr(m, "dilation", pyIntTuple(pair(n, "dilation", 1)));
  setModuleAttr(m, "transposed", pyBool(false));
  setModuleAttr(m, "output_padding", pyIntTuple({0, 0}));
  setModuleAttr(m, "groups", pyInt(groups));
  setModuleAttr(m, "padding_mode", pyStr("zeros"));
  setModuleAttr(m, "_reversed_padding_repeated_twice",
                pyList({pyInt(padding[1]), pyInt(padding[1]), pyInt(padding[0]), pyInt(padding[0])}));
  addParameter(m, "weight", w.detach());
  addParameter(m, "bias", n.optionalTensor("bias"));
  return m;
}

PyRef torchBatchNorm2d(const Node& n) {
  PyRef m = pyModule("torch.nn.modules.batchnorm.BatchNorm2d");
  setModuleAttr(m, "num_features", pyInt(n.tensor("running_mean").size(0)));
  setModuleAttr(m, "eps", pyFloat(n.attrs.getFloat("eps", 1e-5)));
  setModuleAttr(m, "momentum", pyFloat(n.attrs.getFloat("momentum", 0.1)));
  setModuleAttr(m, "affine", pyBool(n.hasTensor("weight")));
  setModuleAttr(m, "track_running_stats", pyBool(true));
  addTensors(m, n);
  return m;
}

PyRef torchLinear(const Node& n) {
  const at::Tensor& w = n.tensor("weight");
  PyRef m = pyModule("torch.nn.modules.linear.Linear");
  setModuleAttr(m, "in_features", pyInt(w.size(1)));
  setModuleAttr(m, "out_features", pyInt(w.size(0)));
  addParameter(m, "weight", w.detach());
  addParameter(m, "bias", n.optionalTensor("bias"));
  return m;
}

PyRef torchReLU(bool inplace) {
  PyRef m = pyModule("torch.nn.modules.activation.ReLU");
  setModuleAttr(m, "inplace", pyBool(inplace));
  return m;
}

PyRef torchMaxPool2d(const Node& n) {
  PyRef m = pyModule("torch.nn.modules.pooling.MaxPool2d");
  setModuleAttr(m, "kernel_size", pyInt(pair(n, "kernel", 1)[0]));
  setModuleAttr(m, "stride", pyInt(pair(n, "stride", 1)[0]));
  setModuleAttr(m, "padding", pyInt(pair(n, "padding", 0)[0]));
  setModuleAttr(m, "dilation", pyInt(pair(n, "dilation", 1)[0]));
  setModuleAttr(m, "return_indices", pyBool(false));
  setModuleAttr(m, "ceil_mode", pyBool(n.attrs.getInt("ceil_mode", 0) != 0));
  return m;
}

PyRef torchAdaptiveAvgPool2d(int64_t size) {
  PyRef m = pyModule("torch.nn.modules.pooling.AdaptiveAvgPool2d");
  setModuleAttr(m, "output_size", pyIntTuple({size, size}));
  return m;
}

PyRef torchIdentity() { return pyModule("torch.nn.modules.linear.Identity"); }
PyRef torchSequential() { return pyModule("torch.nn.modules.container.Sequential"); }

bool updateLeafWidths(const PyRef& module, const Node* node) {
  const std::string cls = pyClassName(module);
  if (cls == "torch.nn.modules.conv.Conv2d") {
    const at::Tensor w = tensorOf(module, "_parameters", "weight");
    if (!w.defined()) return true;
    const int64_t groups = node ? node->attrs.getInt("groups", 1) : intAttr(module, "groups", 1);
    setModuleAttr(module, "out_channels", pyInt(w.size(0)));
    setModuleAttr(module, "in_channels", pyInt(w.size(1) * groups));
    setModuleAttr(module, "groups", pyInt(groups));
    return true;
  }
  if (cls == "torch.nn.modules.batchnorm.BatchNorm2d") {
    at::Tensor t = tensorOf(module, "_buffers", "running_mean");
    if (!t.defined()) t = tensorOf(module, "_parameters", "weight");
    if (t.defined()) setModuleAttr(module, "num_features", pyInt(t.size(0)));
    return true;
  }
  if (cls == "torch.nn.modules.linear.Linear") {
    const at::Tensor w = tensorOf(module, "_parameters", "weight");
    if (!w.defined()) return true;
    setModuleAttr(module, "out_features", pyInt(w.size(0)));
    setModuleAttr(module, "in_features", pyInt(w.size(1)));
    return true;
  }
  return false;
}

void checkLeafWidths(const std::string& path, const PyRef& module, std::vector<std::string>& problems) {
  const std::string cls = pyClassName(module);
  auto expect = [&](const char* attr, int64_t want) {
    const int64_t have = intAttr(module, attr, -1);
    if (have != want)
      problems.push_back(path + " (" + cls.substr(cls.rfind('.') + 1) + "): " + attr + " " + std::to_string(have) +
                         ", its tensors say " + std::to_string(want));
  };
  if (cls == "torch.nn.modules.conv.Conv2d") {
    const at::Tensor w = tensorOf(module, "_parameters", "weight");
    if (!w.defined() || w.dim() != 4) return;
    const int64_t groups = intAttr(module, "groups", 1);
    expect("out_channels", w.size(0));
    expect("in_channels", w.size(1) * groups);
  } else if (cls == "torch.nn.modules.batchnorm.BatchNorm2d") {
    at::Tensor t = tensorOf(module, "_buffers", "running_mean");
    if (!t.defined()) t = tensorOf(module, "_parameters", "weight");
    if (t.defined()) expect("num_features", t.size(0));
  } else if (cls == "torch.nn.modules.linear.Linear") {
    const at::Tensor w = tensorOf(module, "_parameters", "weight");
    if (!w.defined() || w.dim() != 2) return;
    expect("out_features", w.size(0));
    expect("in_features", w.size(1));
  }
}

}  // namespace prunelab
