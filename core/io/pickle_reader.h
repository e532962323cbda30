#pragma once
// A small, safe Python unpickler for the subset of pickle that torch.save() writes
// (protocols 2-5). It builds a plain object tree and never executes anything:
// "callables" (GLOBAL + REDUCE) become Object nodes that the caller interprets.
// Why our own: LibTorch 1.13's torch::pickle_load rejects the collections.OrderedDict
// at the top of every ordinary state_dict file.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prunelab {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0.0;
  std::string text;                             // String, Bytes; Global: "module.name"
  std::vector<PyRef> items;                     // Tuple, List
  std::vector<std::pair<PyRef, PyRef>> entries; // Dict, in insertion order
  PyRef callable, args, state;                  // Object: callable(*args), then BUILD(state)
  at::Tensor tensor;                            // Tensor (made by the reduce hook)
  // What a writer needs to pickle the value back as it was read (io/pickle_writer.h):
  // the class behind a Dict/List/Tuple/Tensor that the reader turned into a plain value
  // ("collections.OrderedDict", "collections.defaultdict" with its factory in `args`,
  // "builtins.set", "torch.Size", "torch.nn.parameter.Parameter"), else "".
  std::string origin;
  bool newObj = false;        // Object: made by NEWOBJ (cls.__new__(cls, *args)), not REDUCE
  bool requiresGrad = false;  // Tensor: the requires_grad flag it was saved with

  // Releases the children without recursion: a hostile pickle can nest values a million
  // deep, which a recursive destructor would not survive.
  ~PyValue();

  bool isString(const std::string& s) const { return kind == Kind::String && text == s; }
  std::string describe() const;  // "dict", "tuple", "torch._utils._rebuild_tensor_v2(...)"
};

struct PickleHooks {
  // BINPERSID / PERSID: turn a persistent id into an object (torch: storages).
  std::function<PyRef(const PyRef& pid)> persistentLoad;
  // REDUCE / NEWOBJ on a Global: return a value, or nullptr to keep a generic Object.
  std::function<PyRef(const std::string& global, const PyRef& args)> reduce;
  // GLOBAL / STACK_GLOBAL: when set, a name it rejects stops the parse with an Error
  // naming the name (e.g. "os.system"), before anything refers to it. Nothing is ever
  // called either way; the check keeps files that name arbitrary code out altogether.
  std::function<bool(const std::string& global)> allowGlobal;
};

// Parses `data` (a whole pickle). Throws prunelab::Error("<subject>", ...) on malformed
// or unsupported input; `subject` names the file for messages. The result is a tree (a
// DAG where the file shares values): a pickle whose values refer back to themselves is
// refused, as shared_ptr cycles would never be freed (torch checkpoints have none).
PyRef unpickle(const std::string& data, const PickleHooks& hooks, const std::string& subject);

}  // namespace prunelab
