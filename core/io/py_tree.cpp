#include "io/py_tree.h"

#include "io/torch_pickle.h"
#include "util/error.h"

namespace prunelab {

namespace {

PyRef make(PyValue::Kind k) {
  auto v = std::make_shared<PyValue>();
  v->kind = k;
  return v;
}

PyRef dictOf(const PyRef& module, const char* name) {
  const PyRef d = pyDictGet(pyObjectDict(module), name);
  if (!d || d->kind != PyValue::Kind::Dict) throw Error(pyClassName(module), std::string("has no ") + name + " dict");
  return d;
}

}  // namespace

PyRef pyNone() { return make(PyValue::Kind::None); }
PyRef pyBool(bool b) {
  auto v = make(PyValue::Kind::Bool);
  v->boolean = b;
  return v;
}
PyRef pyInt(int64_t i) {
  auto v = make(PyValue::Kind::Int);
  v->integer = i;
  return v;
}
PyRef pyFloat(double d) {
  auto v = make(PyValue::Kind::Float);
  v->real = d;
  return v;
}
PyRef pyStr(const std::string& s) {
  auto v = make(PyValue::Kind::String);
  v->text = s;
  return v;
}
PyRef pyGlobal(const std::string& dotted) {
  auto v = make(PyValue::Kind::Global);
  v->text = dotted;
  return v;
}
PyRef pyTuple(std::vector<PyRef> items) {
  auto v = make(PyValue::Kind::Tuple);
  v->items = std::move(items);
  return v;
}
PyRef pyIntTuple(const std::vector<int64_t>& xs) {
  std::vector<PyRef> items;
  for (int64_t x : xs) items.push_back(pyInt(x));
  return pyTuple(std::move(items));
}
PyRef pyList(std::vector<PyRef> items) {
  auto v = make(PyValue::Kind::List);
  v->items = std::move(items);
  return v;
}
PyRef pyDict() { return make(PyValue::Kind::Dict); }
PyRef pyOrderedDict() {
  auto v = make(PyValue::Kind::Dict);
  v->origin = "collections.OrderedDict";
  return v;
}
PyRef pyTensor(const at::Tensor& t, bool parameter) {
  auto v = make(PyValue::Kind::Tensor);
  v->tensor = t;
  if (parameter) {
    v->origin = "torch.nn.parameter.Parameter";
    v->requiresGrad = true;
  }
  return v;
}

void pyDictSet(const PyRef& dict, const std::string& key, PyRef value) {
  if (!dict || dict->kind != PyValue::Kind::Dict) throw Error("pyDictSet", "not a dict");
  for (auto& [k, v] : dict->entries)
    if (k->isString(key)) {
      v = std::move(value);
      return;
    }
  dict->entries.emplace_back(pyStr(key), std::move(value));
}

PyRef pyModule(const std::string& cls) {
  auto m = make(PyValue::Kind::Object);
  m->callable = pyGlobal(cls);
  m->args = pyTuple({});
  m->newObj = true;
  PyRef state = pyDict();
  pyDictSet(state, "training", pyBool(false));
  pyDictSet(state, "_parameters", pyOrderedDict());
  pyDictSet(state, "_buffers", pyOrderedDict());
  auto nonPersistent = make(PyValue::Kind::List);
  nonPersistent->origin = "builtins.set";
  pyDictSet(state, "_non_persistent_buffers_set", nonPersistent);
  pyDictSet(state, "_backward_hooks", pyOrderedDict());
  pyDictSet(state, "_is_full_backward_hook", pyNone());
  pyDictSet(state, "_forward_hooks", pyOrderedDict());
  pyDictSet(state, "_forward_pre_hooks", pyOrderedDict());
  pyDictSet(state, "_state_dict_hooks", pyOrderedDict());
  pyDictSet(state, "_load_state_dict_pre_hooks", pyOrderedDict());
  pyDictSet(state, "_load_state_dict_post_hooks", pyOrderedDict());
  pyDictSet(state, "_modules", pyOrderedDict());
  m->state = state;
  return m;
}

void setModuleAttr(const PyRef& module, const std::string& name, PyRef value) {
  pyDictSet(pyObjectDict(module), name, std::move(value));
}
void addParameter(const PyRef& module, const std::string& name, const at::Tensor& t) {
  pyDictSet(dictOf(module, "_parameters"), name, t.defined() ? pyTensor(t, true) : pyNone());
}
void addBuffer(const PyRef& module, const std::string& name, const at::Tensor& t) {
  pyDictSet(dictOf(module, "_buffers"), name, t.defined() ? pyTensor(t, false) : pyNone());
}
void addChild(const PyRef& module, const std::string& name, PyRef child) {
  pyDictSet(dictOf(module, "_modules"), name, child ? std::move(child) : pyNone());
}

std::vector<std::pair<std::string, PyRef>> moduleChildren(const PyRef& module) {
  std::vector<std::pair<std::string, PyRef>> r;
  const PyRef mods = pyDictGet(pyObjectDict(module), "_modules");
  if (!mods || mods->kind != PyValue::Kind::Dict) return r;
  for (const auto& [k, v] : mods->entries)
    if (k->kind == PyValue::Kind::String && isPyObject(v)) r.emplace_back(k->text, v);
  return r;
}

void forEachModule(const PyRef& root, const std::function<void(const std::string&, const PyRef&)>& visit) {
  std::vector<std::pair<std::string, PyRef>> stack{{"", root}};
  while (!stack.empty()) {
    auto [path, m] = stack.back();
    stack.pop_back();
    visit(path, m);
    auto children = moduleChildren(m);
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      stack.emplace_back(path.empty() ? it->first : path + "." + it->first, it->second);
  }
}

std::string pyShortClassName(const PyRef& module) {
  const std::string c = pyClassName(module);
  return c.substr(c.rfind('.') + 1);
}

}  // namespace prunelab
