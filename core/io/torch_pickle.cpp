#include "io/torch_pickle.h"

#include <ATen/ATen.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "io/torch_zip.h"
#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

namespace {

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

at::ScalarType storageType(const std::string& global, const std::string& path) {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},  {"torch.DoubleStorage", at::kDouble}, {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16}, {"torch.LongStorage", at::kLong}, {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},  {"torch.CharStorage", at::kChar},     {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool}};
  auto it = types.find(global);
  if (it == types.end()) throw Error(path, "unsupported storage type " + global);
  return it->second;
}

PyRef tensorValue(at::Tensor t) {
  auto v = std::make_shared<PyValue>();
  v->kind = PyValue::Kind::Tensor;
  v->tensor = std::move(t);
  return v;
}

}  // namespace

bool isKnownTorchGlobal(const std::string& g) {
  // Exact names: what torch.save writes for tensors, containers and the plain values
  // that yolov5's and ultralytics' checkpoints carry (options, paths, numpy numbers).
  static const std::set<std::string> exact = {
      "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state", "torch.Size", "torch.device", "torch.float16", "torch.float32",
      "torch.float64", "torch.bfloat16", "torch.int64", "torch.int32", "torch.int16", "torch.int8", "torch.uint8",
      "torch.bool", "torch.half", "torch.float", "torch.double", "torch.long", "torch.int",
      "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage",
      "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
      "torch.nn.parameter.Parameter", "collections.OrderedDict", "collections.defaultdict", "builtins.set",
      "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset", "builtins.slice", "builtins.object",
      "__builtin__.object", "copyreg._reconstructor", "_codecs.encode", "types.SimpleNamespace", "argparse.Namespace",
      "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
      "datetime.datetime", "datetime.date", "datetime.timedelta", "numpy.dtype", "numpy.ndarray",
      "numpy.core.multiarray.scalar", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray.scalar",
      "numpy._core.multiarray._reconstruct", "ultralytics.utils.IterableSimpleNamespace",
      "ultralytics.yolo.utils.IterableSimpleNamespace",
      // The loss an ultralytics model carries after training (`criterion`, in a mid-run
      // last.pt): classes whose names start in lower case, so the rule below misses them.
      "ultralytics.utils.loss.v8DetectionLoss", "ultralytics.utils.loss.v8SegmentationLoss",
      "ultralytics.utils.loss.v8PoseLoss", "ultralytics.utils.loss.v8ClassificationLoss",
      "ultralytics.utils.loss.v8OBBLoss", "ultralytics.yolo.utils.loss.v8DetectionLoss"};
  if (exact.count(g)) return true;
  // Plain types (a defaultdict's factory, a dtype-like field); never the callables that
  // run code (eval, exec, compile, getattr, __import__, open...).
  static const std::set<std::string> types = {"list", "dict", "tuple", "int", "float", "str", "bytes", "bool",
                                              "complex", "bytearray"};
  for (const char* builtins : {"builtins.", "__builtin__."})
    if (startsWith(g, builtins) && types.count(g.substr(std::strlen(builtins)))) return true;
  // Module classes: PyTorch's own layers, torchvision's models, yolov5's model files, ultralytics' nn package
  // and the loss objects ultralytics leaves on a model after training (`criterion`).
  for (const char* prefix : {"torch.nn.modules.", "torchvision.models.", "models.yolo.", "models.common.", "models.experimental.",
                             "ultralytics.nn.", "ultralytics.utils.loss.", "ultralytics.utils.tal.",
                             "ultralytics.yolo.utils.loss.", "ultralytics.yolo.utils.tal."})
    if (startsWith(g, prefix)) {
      // A module path, not a function hidden behind it: the last part is a class name.
      const std::string last = g.substr(g.rfind('.') + 1);
      return !last.empty() && std::isupper(static_cast<unsigned char>(last[0]));
    }
  return false;
}

PyRef readTorchPickle(const std::string& path) {
  if (!std::ifstream(path)) throw Error(path, "cannot open file");
  if (!looksLikeZip(path))
    throw Error(path, "not a PyTorch zip file as torch.save() writes since torch 1.6 (legacy pickle files are "
                      "not supported: load and save it again with a current torch)");
  TorchZipReader zip(path);
  if (!zip.hasRecord("data.pkl")) throw Error(path, "zip archive has no data.pkl: not a torch.save() file");
  const std::string pickle = zip.readRecord("data.pkl");
  if (zip.hasRecord("byteorder") && zip.readRecord("byteorder") != "little")
    throw Error(path, "big-endian tensor data is not supported");

  return unpickleTorch(pickle, [&](const std::string& name) { return zip.readRecord(name); }, path);
}

namespace {

// A storage record, once per key: ('storage', <storage class>, key, location, numel).
PyRef loadStorage(const PyRef& pid, std::map<std::string, at::Tensor>& storages, const TorchRecordReader& readRecord,
                  const std::string& path) {
  if (pid->kind != PyValue::Kind::Tuple || pid->items.size() < 5 || !pid->items[0]->isString("storage") ||
      pid->items[1]->kind != PyValue::Kind::Global)
    throw Error(path, "unexpected persistent id in pickle: " + pid->describe());
  const at::ScalarType type = storageType(pid->items[1]->text, path);
  const std::string key = pid->items[2]->text;
  const int64_t numel = pid->items[4]->integer;
  if (numel < 0) throw Error(path, "storage data/" + key + " has a negative size");
  auto it = storages.find(key);
  if (it == storages.end()) {
    const std::string record = readRecord("data/" + key);
    // Sized from the record, not from numel: a lying numel must not allocate.
    const size_t itemSize = c10::elementSize(type);
    if (static_cast<uint64_t>(numel) > record.size() / itemSize)
      throw Error(path, "storage data/" + key + " is truncated (" + std::to_string(record.size()) + " of " +
                            std::to_string(numel) + " elements of " + std::to_string(itemSize) + " bytes)");
    at::Tensor flat = at::empty({numel}, at::TensorOptions().dtype(type));
    const size_t bytes = static_cast<size_t>(numel) * itemSize;
    if (bytes) std::memcpy(flat.data_ptr(), record.data(), bytes);
    it = storages.emplace(key, flat).first;
  }
  return tensorValue(it->second);
}

std::vector<int64_t> ints(const PyRef& tuple) {
  std::vector<int64_t> r;
  for (const auto& i : tuple->items) r.push_back(i->integer);
  return r;
}

// torch._utils._rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...): a view
// of the storage, checked to stay inside it.
PyRef rebuildTensor(const PyRef& args, const std::string& path) {
  const auto& a = args->items;
  if (a.size() < 4 || a[0]->kind != PyValue::Kind::Tensor || a[2]->kind != PyValue::Kind::Tuple ||
      a[3]->kind != PyValue::Kind::Tuple || a[2]->items.size() != a[3]->items.size())
    throw Error(path, "malformed tensor record in pickle");
  const std::vector<int64_t> size = ints(a[2]), stride = ints(a[3]);
  // A view past its storage would read other memory: check the extent first.
  // Computed with overflow checks: sizes and strides come from the file.
  int64_t extent = a[1]->integer;
  bool empty = false, overflow = extent < 0;
  for (size_t i = 0; i < size.size(); ++i) {
    if (size[i] < 0 || stride[i] < 0) throw Error(path, "malformed tensor record in pickle");
    empty |= size[i] == 0;
    int64_t reach = 0;
    overflow |= size[i] > 0 && (__builtin_mul_overflow(size[i] - 1, stride[i], &reach) ||
                                __builtin_add_overflow(extent, reach, &extent));
  }
  if (!empty && (overflow || extent >= a[0]->tensor.numel()))
    throw Error(path, "a tensor reaches past the end of its storage");
  PyRef t = tensorValue(empty ? at::empty(size, a[0]->tensor.options())
                              : a[0]->tensor.as_strided(size, stride, a[1]->integer));
  t->requiresGrad = a.size() > 4 && a[4]->kind == PyValue::Kind::Bool && a[4]->boolean;
  return t;
}

// Containers a torch pickle builds by REDUCE: OrderedDict, defaultdict, set, frozenset,
// torch.Size; null for anything else.
PyRef reduceContainer(const std::string& global, const PyRef& args) {
  if (global == "collections.OrderedDict" || global == "collections.defaultdict") {
    auto d = std::make_shared<PyValue>();
    d->kind = PyValue::Kind::Dict;
    d->origin = global;
    if (global == "collections.defaultdict") d->args = args;  // (factory,): written back as read
    return d;
  }
  if (global == "builtins.set" || global == "__builtin__.set" || global == "builtins.frozenset" ||
      global == "__builtin__.frozenset") {
    auto s = std::make_shared<PyValue>();
    s->kind = PyValue::Kind::List;
    s->origin = global.find("frozenset") != std::string::npos ? "builtins.frozenset" : "builtins.set";
    if (args->kind == PyValue::Kind::Tuple && !args->items.empty()) s->items = args->items[0]->items;
    return s;
  }
  if (global == "torch.Size") {  // torch.Size((1, 2)) -> (1, 2)
    if (args->kind == PyValue::Kind::Tuple && args->items.size() == 1 && args->items[0]->kind == PyValue::Kind::Tuple) {
      auto size = std::make_shared<PyValue>(*args->items[0]);  // a copy: the tuple may be shared
      size->origin = "torch.Size";
      return size;
    }
    if (args->kind == PyValue::Kind::Tuple && args->items.size() == 1) return args->items[0];
  }
  return nullptr;
}

}  // namespace

PyRef unpickleTorch(const std::string& pickle, const TorchRecordReader& readRecord, const std::string& path) {
  std::map<std::string, at::Tensor> storages;
  PickleHooks hooks;
  hooks.allowGlobal = isKnownTorchGlobal;
  hooks.persistentLoad = [&](const PyRef& pid) { return loadStorage(pid, storages, readRecord, path); };
  hooks.reduce = [&](const std::string& global, const PyRef& args) -> PyRef {
    if (global == "torch._utils._rebuild_tensor_v2" || global == "torch._utils._rebuild_tensor")
      return rebuildTensor(args, path);
    if (global == "torch._utils._rebuild_parameter" || global == "torch._utils._rebuild_parameter_with_state") {
      const auto& a = args->items;
      if (a.empty() || a[0]->kind != PyValue::Kind::Tensor) throw Error(path, "malformed parameter in pickle");
      PyRef p = tensorValue(a[0]->tensor);
      p->origin = "torch.nn.parameter.Parameter";
      p->requiresGrad = a.size() < 2 || a[1]->kind != PyValue::Kind::Bool || a[1]->boolean;
      return p;
    }
    return reduceContainer(global, args);  // null: anything else stays an inert Object
  };
  return unpickle(pickle, hooks, path);
}

bool isPyObject(const PyRef& v) {
  return v && v->kind == PyValue::Kind::Object && v->callable && v->callable->kind == PyValue::Kind::Global;
}

std::string pyClassName(const PyRef& v) { return isPyObject(v) ? v->callable->text : std::string(); }

PyRef pyObjectDict(const PyRef& v) {
  if (!isPyObject(v) || !v->state) return nullptr;
  if (v->state->kind == PyValue::Kind::Dict) return v->state;
  // (dict, slots) as objects with __slots__ pickle their state
  if (v->state->kind == PyValue::Kind::Tuple && !v->state->items.empty() &&
      v->state->items[0]->kind == PyValue::Kind::Dict)
    return v->state->items[0];
  return nullptr;
}

PyRef pyDictGet(const PyRef& dict, const std::string& key) {
  if (!dict || dict->kind != PyValue::Kind::Dict) return nullptr;
  for (const auto& [k, v] : dict->entries)
    if (k->isString(key)) return v;
  return nullptr;
}

}  // namespace prunelab
