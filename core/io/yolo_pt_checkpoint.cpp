#include "io/yolo_pt_checkpoint.h"

#include <cmath>
#include <cstdio>
#include <map>

#include <ATen/ATen.h>

#include "io/torch_pickle.h"
#include "util/error.h"

namespace prunelab {

namespace {

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void appendYaml(const PyRef& v, std::string& out, const std::string& path, int depth) {
  if (depth > 32) throw Error(path, "the model's yaml dict is nested too deeply");
  switch (v->kind) {
    case PyValue::Kind::None: out += "null"; return;
    case PyValue::Kind::Bool: out += v->boolean ? "true" : "false"; return;
    case PyValue::Kind::Int: out += std::to_string(v->integer); return;
    case PyValue::Kind::Float: {
      if (!std::isfinite(v->real)) throw Error(path, "the model's yaml dict holds a non-finite number");
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v->real);
      out += buf;
      return;
    }
    case PyValue::Kind::String: {
      out += '"';
      for (const char c : v->text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
          continue;
        }
        out += c;
      }
      out += '"';
      return;
    }
    case PyValue::Kind::List:
    case PyValue::Kind::Tuple: {
      out += '[';
      for (size_t i = 0; i < v->items.size(); ++i) {
        if (i) out += ", ";
        appendYaml(v->items[i], out, path, depth + 1);
      }
      out += ']';
      return;
    }
    case PyValue::Kind::Dict: {
      out += '{';
      for (size_t i = 0; i < v->entries.size(); ++i) {
        if (i) out += ", ";
        appendYaml(v->entries[i].first, out, path, depth + 1);
        out += ": ";
        appendYaml(v->entries[i].second, out, path, depth + 1);
      }
      out += '}';
      return;
    }
    default: throw Error(path, "the model's yaml dict holds a " + v->describe() + ", not a plain value");
  }
}

std::string scalarText(const PyRef& v) {
  switch (v->kind) {
    case PyValue::Kind::None: return "None";
    case PyValue::Kind::Bool: return v->boolean ? "True" : "False";
    case PyValue::Kind::Int: return std::to_string(v->integer);
    case PyValue::Kind::Float: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.6g", v->real);
      return buf;
    }
    case PyValue::Kind::String: return v->text;
    default: return "";
  }
}

// yolov5 keeps `names` as a list (dict {i: name} since v7 data checks), ultralytics as a dict.
std::vector<std::string> classNames(const PyRef& names) {
  std::vector<std::string> r;
  if (!names) return r;
  if (names->kind == PyValue::Kind::List || names->kind == PyValue::Kind::Tuple) {
    for (const auto& n : names->items) r.push_back(scalarText(n));
  } else if (names->kind == PyValue::Kind::Dict) {
    for (const auto& [k, n] : names->entries) {
      if (k->kind != PyValue::Kind::Int || k->integer < 0 || k->integer > 100000) return {};
      if (r.size() <= static_cast<size_t>(k->integer)) r.resize(static_cast<size_t>(k->integer) + 1);
      r[static_cast<size_t>(k->integer)] = scalarText(n);
    }
  }
  return r;
}

bool isNone(const PyRef& v) { return !v || v->kind == PyValue::Kind::None; }

}  // namespace

std::string pyToYaml(const PyRef& value, const std::string& path) {
  std::string out;
  appendYaml(value, out, path, 0);
  return out;
}

std::optional<YoloPtCheckpoint> yoloCheckpointFromPickle(const PyRef& root, const std::string& path) {
  // The trainers save a dict; a bare pickled model (torch.save(model)) is accepted too.
  PyRef model;
  std::string taken;
  if (isPyObject(root)) {
    model = root;
    taken = "model";
  } else if (root->kind == PyValue::Kind::Dict) {
    for (const char* key : {"ema", "model"})  // ema first, as the trainers do
      if (const PyRef v = pyDictGet(root, key); !isNone(v) && isPyObject(v)) {
        model = v;
        taken = key;
        break;
      }
  }
  if (!model) return std::nullopt;
  const std::string cls = pyClassName(model);
  YoloPtCheckpoint ck;
  ck.modelClass = cls;
  ck.taken = taken;
  if (startsWith(cls, "models.yolo.")) ck.family = "yolov5";
  else if (startsWith(cls, "ultralytics.")) ck.family = "ultralytics";
  else throw Error(path, "holds a " + cls + " model; PruneLab rebuilds yolov5 (models.yolo) and ultralytics "
                         "(ultralytics.nn.tasks) detection models");
  if (cls != "models.yolo.DetectionModel" && cls != "models.yolo.Model" && cls != "ultralytics.nn.tasks.DetectionModel")
    throw Error(path, "holds a " + cls + "; only detection models (DetectionModel) can be rebuilt so far");
  const PyRef attrs = pyObjectDict(model);
  const PyRef yaml = pyDictGet(attrs, "yaml");
  if (!yaml || yaml->kind != PyValue::Kind::Dict)
    throw Error(path, "the " + taken + " (" + cls + ") has no `yaml` dict to rebuild its architecture from");
  ck.yamlText = pyToYaml(yaml, path);
  if (const PyRef nc = pyDictGet(yaml, "nc"); nc && nc->kind == PyValue::Kind::Int) ck.nc = nc->integer;
  if (const PyRef s = pyDictGet(yaml, "scale"); s && s->kind == PyValue::Kind::String) ck.scale = s->text;
  if (const PyRef ch = pyDictGet(yaml, "ch"); ch && ch->kind == PyValue::Kind::Int) ck.inChannels = ch->integer;
  ck.names = classNames(pyDictGet(attrs, "names"));
  ck.root = root;
  ck.model = model;
  ck.stateDict = moduleStateDict(model, path);
  if (root->kind == PyValue::Kind::Dict)
    for (const char* key : {"epoch", "best_fitness", "date", "version", "updates"})
      if (const PyRef v = pyDictGet(root, key); v && !scalarText(v).empty()) ck.facts[key] = scalarText(v);
  return ck;
}

namespace {

PyRef emptyLike(const PyRef& v) {
  if (!v || v->kind != PyValue::Kind::Tensor) return v;
  auto e = std::make_shared<PyValue>();
  e->kind = PyValue::Kind::Tensor;
  e->tensor = at::empty({0}, v->tensor.options());
  e->origin = v->origin;
  e->requiresGrad = v->requiresGrad;
  return e;
}

// A copy of module `m` whose parameters and buffers are empty; shared submodules stay shared.
PyRef stripModule(const PyRef& m, std::map<const PyValue*, PyRef>& done, int depth) {
  if (depth > 200) throw Error("checkpoint", "module tree nested too deeply");
  if (const auto it = done.find(m.get()); it != done.end()) return it->second;
  const PyRef attrs = pyObjectDict(m);
  auto copy = std::make_shared<PyValue>(*m);
  done[m.get()] = copy;
  if (!attrs) return copy;
  auto state = std::make_shared<PyValue>(*attrs);
  for (auto& [k, v] : state->entries) {
    if (k->kind != PyValue::Kind::String || !v || v->kind != PyValue::Kind::Dict) continue;
    if (k->text == "_parameters" || k->text == "_buffers") {
      auto d = std::make_shared<PyValue>(*v);
      for (auto& [name, t] : d->entries) t = emptyLike(t);
      v = d;
    } else if (k->text == "_modules") {
      auto d = std::make_shared<PyValue>(*v);
      for (auto& [name, child] : d->entries)
        if (isPyObject(child)) child = stripModule(child, done, depth + 1);
      v = d;
    }
  }
  if (copy->state && copy->state->kind == PyValue::Kind::Tuple) {  // (dict, slots)
    auto tuple = std::make_shared<PyValue>(*copy->state);
    tuple->items[0] = state;
    copy->state = tuple;
  } else {
    copy->state = state;
  }
  return copy;
}

PyRef noneValue() {
  auto v = std::make_shared<PyValue>();
  v->kind = PyValue::Kind::None;
  return v;
}

}  // namespace

PyRef trainerCheckpointTemplate(const YoloPtCheckpoint& ck) {
  std::map<const PyValue*, PyRef> done;
  const PyRef model = stripModule(ck.model, done, 0);
  auto root = std::make_shared<PyValue>();
  root->kind = PyValue::Kind::Dict;
  if (ck.root && ck.root->kind == PyValue::Kind::Dict) *root = *ck.root;
  bool hasModel = false;
  for (auto& [k, v] : root->entries) {
    if (k->isString("model")) v = model, hasModel = true;
    else if (k->isString("ema") || k->isString("optimizer")) v = noneValue();
  }
  if (!hasModel) {
    auto key = std::make_shared<PyValue>();
    key->kind = PyValue::Kind::String;
    key->text = "model";
    root->entries.emplace_back(key, model);
  }
  return root;
}

YoloPtCheckpoint readYoloPtCheckpoint(const std::string& path) {
  const PyRef root = readTorchPickle(path);
  auto ck = yoloCheckpointFromPickle(root, path);
  if (!ck) throw Error(path, "holds a " + root->describe() + " without a pickled model under 'ema' or 'model'");
  return std::move(*ck);
}

}  // namespace prunelab
