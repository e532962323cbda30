#include "io/state_dict.h"

#include <ATen/ATen.h>

#include <map>
#include <set>

#include "io/torch_pickle.h"
#include "util/error.h"

namespace prunelab {

namespace {

bool isTensorDict(const PyRef& v) {
  if (!v || v->kind != PyValue::Kind::Dict || v->entries.empty()) return false;
  for (const auto& [k, val] : v->entries)
    if (k->kind != PyValue::Kind::String || val->kind != PyValue::Kind::Tensor) return false;
  return true;
}

// A pickled torch.nn.Module: an object whose state has `_modules` and `_parameters`.
bool isModule(const PyRef& v) {
  const PyRef d = pyObjectDict(v);
  return d && pyDictGet(d, "_modules") && pyDictGet(d, "_parameters");
}

void collectModule(const PyRef& module, const std::string& prefix, StateDict& out, const std::string& path, int depth) {
  if (depth > 64) throw Error(path, "module tree nested too deeply at '" + prefix + "'");
  const PyRef d = pyObjectDict(module);
  auto key = [&](const std::string& name) { return prefix.empty() ? name : prefix + "." + name; };
  if (const PyRef params = pyDictGet(d, "_parameters"); params && params->kind == PyValue::Kind::Dict)
    for (const auto& [k, v] : params->entries)
      if (v->kind == PyValue::Kind::Tensor) out.emplace_back(key(k->text), v->tensor.contiguous());
  std::set<std::string> transient;  // register_buffer(..., persistent=False): not in a state_dict
  if (const PyRef np = pyDictGet(d, "_non_persistent_buffers_set"); np && np->kind == PyValue::Kind::List)
    for (const auto& n : np->items) transient.insert(n->text);
  if (const PyRef buffers = pyDictGet(d, "_buffers"); buffers && buffers->kind == PyValue::Kind::Dict)
    for (const auto& [k, v] : buffers->entries)
      if (v->kind == PyValue::Kind::Tensor && !transient.count(k->text)) out.emplace_back(key(k->text), v->tensor.contiguous());
  if (const PyRef children = pyDictGet(d, "_modules"); children && children->kind == PyValue::Kind::Dict)
    for (const auto& [k, v] : children->entries)
      if (isModule(v)) collectModule(v, key(k->text), out, path, depth + 1);
}

PyRef findStateDict(const PyRef& root) {
  if (isTensorDict(root) || isModule(root)) return root;
  if (root->kind == PyValue::Kind::Dict)
    for (const char* key : {"state_dict", "model_state_dict", "ema", "model", "net"})
      if (const PyRef v = pyDictGet(root, key); v && (isTensorDict(v) || isModule(v))) return v;
  return nullptr;
}

}  // namespace

StateDict moduleStateDict(const PyRef& module, const std::string& path) {
  if (!isModule(module)) throw Error(path, "holds a " + module->describe() + ", not a torch.nn.Module");
  StateDict out;
  collectModule(module, "", out, path, 0);
  return out;
}

StateDict stateDictFromPickle(const PyRef& root, const std::string& path) {
  const PyRef dict = findStateDict(root);
  if (!dict)
    throw Error(path, "holds a " + root->describe() +
                          ", not a state_dict (save it with torch.save(model.state_dict(), path))");
  if (isModule(dict)) return moduleStateDict(dict, path);
  StateDict result;
  result.reserve(dict->entries.size());
  for (const auto& [k, v] : dict->entries) result.emplace_back(k->text, v->tensor.contiguous());
  return result;
}

StateDict readTorchStateDict(const std::string& path) { return stateDictFromPickle(readTorchPickle(path), path); }

namespace {
// DataParallel / DistributedDataParallel prefix every key with "module.".
std::map<std::string, const at::Tensor*> tensorsByKey(const StateDict& stateDict) {
  bool allModulePrefixed = !stateDict.empty();
  for (const auto& [k, t] : stateDict) allModulePrefixed &= k.rfind("module.", 0) == 0;
  std::map<std::string, const at::Tensor*> byKey;
  for (const auto& [k, t] : stateDict) byKey[allModulePrefixed ? k.substr(7) : k] = &t;
  return byKey;
}
}  // namespace

std::string TransferReport::summary() const {
  return "transferred " + std::to_string(transferred) + "/" + std::to_string(total) + " tensors";
}

TransferReport transferStateDict(Graph& graph, const StateDict& stateDict, const std::string& source) {
  const auto byKey = tensorsByKey(stateDict);
  TransferReport report;
  std::set<std::string> used;
  at::NoGradGuard noGrad;
  for (Node& n : graph.nodes())
    for (NamedTensor& t : n.tensors) {
      const std::string key = n.key(t.name);
      ++report.total;
      auto it = byKey.find(key);
      if (it == byKey.end()) {
        report.skipped.push_back(key + " (not in " + source + ")");
        continue;
      }
      used.insert(key);
      if (it->second->sizes() != t.tensor.sizes()) {
        report.skipped.push_back(key + " (file " + shapeToString(it->second->sizes().vec()) + ", model " +
                                 shapeToString(t.tensor.sizes().vec()) + ")");
        continue;
      }
      t.tensor.copy_(*it->second);
      ++report.transferred;
    }
  for (const auto& [k, t] : byKey)
    if (!used.count(k)) report.unused.push_back(k);
  return report;
}

LoadReport loadStateDict(Graph& graph, const StateDict& stateDict, const std::string& source) {
  const auto byKey = tensorsByKey(stateDict);

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
