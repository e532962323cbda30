#include "io/state_dict.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "io/pickle_reader.h"
#include "io/torch_zip.h"
#include "util/error.h"

namespace prunelab {

namespace {

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

// Finds the directory prefix of the pickle inside the zip: "data.pkl" is usually at
// "<archive>/data.pkl", which the reader resolves; some writers nest differently.
std::string findPickle(const TorchZipReader& zip) {
  if (zip.hasRecord("data.pkl")) return "data.pkl";
  throw Error(zip.path(), "zip archive has no data.pkl: not a torch.save() file");
}

bool isTensorDict(const PyRef& v) {
  if (!v || v->kind != PyValue::Kind::Dict || v->entries.empty()) return false;
  for (const auto& [k, val] : v->entries)
    if (k->kind != PyValue::Kind::String || val->kind != PyValue::Kind::Tensor) return false;
  return true;
}

PyRef findStateDict(const PyRef& root) {
  if (isTensorDict(root)) return root;
  if (root->kind == PyValue::Kind::Dict)
    for (const char* key : {"state_dict", "model_state_dict", "model", "ema", "net"})
      for (const auto& [k, v] : root->entries)
        if (k->isString(key) && isTensorDict(v)) return v;
  return nullptr;
}

}  // namespace

StateDict readTorchStateDict(const std::string& path) {
  if (!std::ifstream(path)) throw Error(path, "cannot open file");
  if (!looksLikeZip(path))
    throw Error(path, "not a PyTorch zip file as torch.save() writes since torch 1.6 (legacy pickle files are "
                      "not supported: load and save it again with a current torch)");
  TorchZipReader zip(path);
  const std::string pickle = zip.readRecord(findPickle(zip));
  if (zip.hasRecord("byteorder") && zip.readRecord("byteorder") != "little")
    throw Error(path, "big-endian tensor data is not supported");

  std::map<std::string, at::Tensor> storages;
  PickleHooks hooks;
  hooks.persistentLoad = [&](const PyRef& pid) -> PyRef {
    // ('storage', <storage class>, key, location, numel)
    if (pid->kind != PyValue::Kind::Tuple || pid->items.size() < 5 || !pid->items[0]->isString("storage"))
      throw Error(path, "unexpected persistent id in pickle: " + pid->describe());
    const at::ScalarType type = storageType(pid->items[1]->text, path);
    const std::string key = pid->items[2]->text;
    const int64_t numel = pid->items[4]->integer;
    auto it = storages.find(key);
    if (it == storages.end()) {
      const std::string record = zip.readRecord("data/" + key);
      at::Tensor flat = at::empty({numel}, at::TensorOptions().dtype(type));
      const size_t bytes = static_cast<size_t>(numel) * flat.element_size();
      if (record.size() < bytes)
        throw Error(path, "storage data/" + key + " is truncated (" + std::to_string(record.size()) + " of " +
                              std::to_string(bytes) + " bytes)");
      std::memcpy(flat.data_ptr(), record.data(), bytes);
      it = storages.emplace(key, flat).first;
    }
    auto v = std::make_shared<PyValue>();
    v->kind = PyValue::Kind::Tensor;
    v->tensor = it->second;
    return v;
  };
  hooks.reduce = [&](const std::string& global, const PyRef& args) -> PyRef {
    auto tensorResult = [](at::Tensor t) {
      auto v = std::make_shared<PyValue>();
      v->kind = PyValue::Kind::Tensor;
      v->tensor = std::move(t);
      return v;
    };
    auto ints = [&](const PyRef& tuple) {
      std::vector<int64_t> r;
      for (const auto& i : tuple->items) r.push_back(i->integer);
      return r;
    };
    if (global == "collections.OrderedDict") {
      auto d = std::make_shared<PyValue>();
      d->kind = PyValue::Kind::Dict;
      return d;
    }
    if (global == "torch._utils._rebuild_tensor_v2" || global == "torch._utils._rebuild_tensor") {
      // (storage, storage_offset, size, stride, ...)
      const auto& a = args->items;
      if (a.size() < 4 || a[0]->kind != PyValue::Kind::Tensor)
        throw Error(path, "malformed tensor record in pickle");
      return tensorResult(a[0]->tensor.as_strided(ints(a[2]), ints(a[3]), a[1]->integer));
    }
    if (global == "torch._utils._rebuild_parameter" || global == "torch._utils._rebuild_parameter_with_state") {
      const auto& a = args->items;
      if (a.empty() || a[0]->kind != PyValue::Kind::Tensor) throw Error(path, "malformed parameter in pickle");
      return tensorResult(a[0]->tensor);
    }
    return nullptr;  // anything else stays an opaque Object
  };

  const PyRef root = unpickle(pickle, hooks, path);
  const PyRef dict = findStateDict(root);
  if (!dict)
    throw Error(path, "holds a " + root->describe() +
                          ", not a state_dict (save it with torch.save(model.state_dict(), path))");
  StateDict result;
  result.reserve(dict->entries.size());
  for (const auto& [k, v] : dict->entries) result.emplace_back(k->text, v->tensor.contiguous());
  return result;
}

LoadReport loadStateDict(Graph& graph, const StateDict& stateDict, const std::string& source) {
  // DataParallel / DistributedDataParallel prefix every key with "module.".
  bool allModulePrefixed = !stateDict.empty();
  for (const auto& [k, t] : stateDict) allModulePrefixed &= k.rfind("module.", 0) == 0;
  std::map<std::string, const at::Tensor*> byKey;
  for (const auto& [k, t] : stateDict) byKey[allModulePrefixed ? k.substr(7) : k] = &t;

  std::vector<std::string> missing, mismatched;
  LoadReport report;
  std::set<std::string> used;
  for (const Node& n : graph.nodes())
    for (const NamedTensor& t : n.tensors) {
      const std::string key = n.key(t.name);
      auto it = byKey.find(key);
      if (it == byKey.end()) {
        if (t.name == "num_batches_tracked")
          report.skippedOptional.push_back(key);
        else
          missing.push_back(key);
        continue;
      }
      used.insert(key);
      if (it->second->sizes() != t.tensor.sizes())
        mismatched.push_back(key + " (file " + shapeToString(it->second->sizes().vec()) + ", model " +
                             shapeToString(t.tensor.sizes().vec()) + ")");
    }
  std::vector<std::string> unexpected;
  for (const auto& [k, t] : byKey)
    if (!used.count(k)) unexpected.push_back(k);

  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    auto list = [](const char* title, const std::vector<std::string>& keys) {
      if (keys.empty()) return std::string();
      std::string s = "\n  " + std::string(title) + " (" + std::to_string(keys.size()) + "):";
      const size_t shown = std::min<size_t>(keys.size(), 25);
      for (size_t i = 0; i < shown; ++i) s += "\n    " + keys[i];
      if (shown < keys.size()) s += "\n    ... and " + std::to_string(keys.size() - shown) + " more";
      return s;
    };
    throw Error(source, "does not match the model:" + list("missing keys", missing) +
                            list("unexpected keys", unexpected) + list("shape mismatches", mismatched));
  }

  at::NoGradGuard noGrad;
  for (Node& n : graph.nodes())
    for (NamedTensor& t : n.tensors) {
      auto it = byKey.find(n.key(t.name));
      if (it == byKey.end()) continue;
      t.tensor.copy_(*it->second);
      ++report.loaded;
    }
  return report;
}

}  // namespace prunelab
