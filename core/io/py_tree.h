#pragma once
// Making and editing value trees (io/pickle_reader.h) that describe Python objects, for
// writers that pickle them (io/torch_save.h): plain values, dicts that keep insertion
// order, and torch.nn.Module objects laid out as PyTorch pickles them (class made by
// NEWOBJ with no arguments, then BUILD with the module's __dict__).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/pickle_reader.h"

namespace prunelab {

PyRef pyNone();
PyRef pyBool(bool b);
PyRef pyInt(int64_t i);
PyRef pyFloat(double d);
PyRef pyStr(const std::string& s);
PyRef pyGlobal(const std::string& dotted);  // "torch.nn.modules.batchnorm.BatchNorm2d"
PyRef pyTuple(std::vector<PyRef> items);
PyRef pyIntTuple(const std::vector<int64_t>& v);
PyRef pyList(std::vector<PyRef> items);
PyRef pyDict();         // a plain dict
PyRef pyOrderedDict();  // collections.OrderedDict
// A tensor value; `parameter` makes it an nn.Parameter (requires_grad true).
PyRef pyTensor(const at::Tensor& t, bool parameter);

// Sets `key` in a Dict: replaces the value of an existing string key in place, else appends.
void pyDictSet(const PyRef& dict, const std::string& key, PyRef value);

// An nn.Module object of class `cls` with the __dict__ that Module.__init__ makes (hooks,
// _parameters, _buffers, _modules, training false). Attributes, parameters, buffers and
// children are added with the functions below, in the order PyTorch registers them.
PyRef pyModule(const std::string& cls);
void setModuleAttr(const PyRef& module, const std::string& name, PyRef value);
void addParameter(const PyRef& module, const std::string& name, const at::Tensor& t);  // undefined -> None
void addBuffer(const PyRef& module, const std::string& name, const at::Tensor& t);
void addChild(const PyRef& module, const std::string& name, PyRef child);  // nullptr -> None

// The children of a pickled module (`_modules`), in order; empty for anything else.
std::vector<std::pair<std::string, PyRef>> moduleChildren(const PyRef& module);
// Visits every module below and including `root`, depth first, with its dotted path
// ("" for the root, "model.0.conv", ...). Each module is visited once per path.
void forEachModule(const PyRef& root, const std::function<void(const std::string& path, const PyRef& module)>& visit);

// The last part of a module's class ("C2f" for "ultralytics.nn.modules.block.C2f").
std::string pyShortClassName(const PyRef& module);

}  // namespace prunelab
