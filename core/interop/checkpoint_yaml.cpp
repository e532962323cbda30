#include "interop/checkpoint_yaml.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "io/py_tree.h"
#include "io/torch_pickle.h"
#include "io/yolo_pt_checkpoint.h"
#include "models/yolo/yolo_builder.h"
#include "models/yolo/yolo_yaml_widths.h"
#include "util/error.h"

namespace prunelab {

namespace {

// A deep copy of a plain value tree (dicts, lists, tuples; scalars are shared, never edited).
PyRef copyPlain(const PyRef& v) {
  if (!v) return v;
  if (v->kind != PyValue::Kind::Dict && v->kind != PyValue::Kind::List && v->kind != PyValue::Kind::Tuple) return v;
  auto c = std::make_shared<PyValue>(*v);
  for (auto& item : c->items) item = copyPlain(item);
  for (auto& [k, val] : c->entries) val = copyPlain(val);
  return c;
}

bool isList(const PyRef& v) { return v && (v->kind == PyValue::Kind::List || v->kind == PyValue::Kind::Tuple); }

double number(const PyRef& v, double fallback) {
  if (!v) return fallback;
  if (v->kind == PyValue::Kind::Float) return v->real;
  if (v->kind == PyValue::Kind::Int) return double(v->integer);
  return fallback;
}

// args[k] = value, padding the positions before it with the class's defaults.
void setArg(PyValue& args, size_t k, PyRef value, const std::vector<PyRef>& defaults) {
  while (args.items.size() < k) args.items.push_back(defaults.at(args.items.size()));
  if (args.items.size() == k) args.items.push_back(std::move(value));
  else args.items[k] = std::move(value);
}

// The `e` argument at args[k] (default 0.5), replaced when it does not give `hidden` of c2.
void fitExpansion(PyValue& args, size_t k, int64_t c2, int64_t hidden, const std::vector<PyRef>& defaults) {
  const double e = k < args.items.size() ? number(args.items[k], 0.5) : 0.5;
  if (hidden < 1 || static_cast<int64_t>(double(c2) * e) == hidden) return;
  setArg(args, k, pyFloat(expansionFor(hidden, c2)), defaults);
}

void rewriteLayer(const PyRef& layer, const YoloLayerWidths& w) {
  if (!isList(layer) || layer->items.size() != 4 || !isList(layer->items[3]) || w.c2 < 1) return;
  PyValue& args = *layer->items[3];
  const std::string& m = w.module;
  const bool repeated = m == "C3" || m == "C3k" || m == "C2f" || m == "C3k2" || m == "C2PSA";
  if (repeated) layer->items[1] = pyInt(w.repeats);
  setArg(args, 0, pyInt(w.c2), {});
  // Defaults after c2 as the classes take them (see yolo_builder.cpp's argument list).
  if (m == "C3" || m == "C3k") fitExpansion(args, 3, w.c2, w.hidden, {nullptr, pyBool(true), pyInt(1)});
  if (m == "C2f") fitExpansion(args, 3, w.c2, w.hidden, {nullptr, pyBool(false), pyInt(1)});
  if (m == "C3k2") {
    setArg(args, 1, pyBool(w.c3k), {});
    fitExpansion(args, 2, w.c2, w.hidden, {nullptr, pyBool(w.c3k)});
  }
  if (m == "C2PSA") fitExpansion(args, 1, w.c2, w.hidden, {nullptr});
}

// Width and depth multiples 1.0: the channel arguments are the widths themselves.
void unitMultiples(const PyRef& dict, int64_t widest) {
  if (pyDictGet(dict, "depth_multiple")) pyDictSet(dict, "depth_multiple", pyFloat(1.0));
  if (pyDictGet(dict, "width_multiple")) pyDictSet(dict, "width_multiple", pyFloat(1.0));
  const PyRef scales = pyDictGet(dict, "scales");
  if (!scales || scales->kind != PyValue::Kind::Dict || scales->entries.empty()) return;
  // One scale under the file's own name (ultralytics reads `scale`, and forces C3k2's c3k
  // for m/l/x by that name), at depth and width 1.0 with room for every width.
  std::string name;
  if (const PyRef s = pyDictGet(dict, "scale"); s && s->kind == PyValue::Kind::String && !s->text.empty()) name = s->text;
  if (name.empty() && scales->entries.front().first->kind == PyValue::Kind::String) name = scales->entries.front().first->text;
  int64_t maxChannels = widest;
  if (const PyRef row = pyDictGet(scales, name); isList(row) && row->items.size() > 2) {
    const double given = number(row->items[2], 0);  // a hostile file may hold inf or 1e300 here
    if (given > 0 && given < 1e9) maxChannels = std::max<int64_t>(widest, static_cast<int64_t>(given));
  }
  PyRef one = pyDict();
  pyDictSet(one, name, pyList({pyFloat(1.0), pyFloat(1.0), pyInt(maxChannels)}));
  pyDictSet(dict, "scales", one);
  pyDictSet(dict, "scale", pyStr(name));
}

PyRef rewritten(const Graph& g, const PyRef& original) {
  PyRef d = copyPlain(original);
  const std::vector<YoloLayerWidths> widths = yoloLayerWidths(g);
  int64_t widest = 0;
  for (const auto& w : widths) widest = std::max(widest, w.c2);
  unitMultiples(d, widest);
  size_t i = 0;
  for (const char* part : {"backbone", "head"}) {
    const PyRef list = pyDictGet(d, part);
    if (!isList(list)) continue;
    for (const PyRef& layer : list->items) {
      if (i < widths.size()) rewriteLayer(layer, widths[i]);
      ++i;
    }
  }
  return d;
}

int64_t inputChannels(const Graph& g) {
  const auto it = g.metadata().find("input");
  if (it == g.metadata().end()) return 3;
  try {
    return std::stoll(it->second.substr(0, it->second.find('x')));
  } catch (const std::exception&) {
    return 3;
  }
}

std::string shapeText(at::IntArrayRef s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ']';
  return o.str();
}

struct Match {
  int64_t matching = 0;
  std::string why;  // the first tensor it does not give as the model has it ("": none)
};

// What a rebuild from `dict` gives: the tensors of `g` it builds in the same shape.
Match rebuildMatch(const Graph& g, const PyRef& dict) {
  const auto model = g.metadata().count("model") ? g.metadata().at("model") : std::string("model");
  Match m;
  Graph built;
  try {
    YoloOptions o;
    o.nc = g.metadata().count("num_classes") ? std::stoll(g.metadata().at("num_classes")) : -1;
    if (const PyRef s = pyDictGet(dict, "scale"); s && s->kind == PyValue::Kind::String) o.scale = s->text;
    o.inChannels = inputChannels(g);
    o.randomInit = false;
    built = buildYoloFromYaml(pyToYaml(dict, model), model + " yaml", o);
  } catch (const std::exception& e) {
    m.why = std::string("the yaml does not build: ") + e.what();
    return m;
  }
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [k, t] : built.stateDict()) shapes[k] = t.sizes().vec();
  for (const auto& [k, t] : g.stateDict()) {
    const auto it = shapes.find(k);
    if (it != shapes.end() && it->second == t.sizes().vec()) {
      ++m.matching;
    } else if (m.why.empty()) {
      m.why = k + " is " + shapeText(t.sizes()) + " in the model, " +
              (it == shapes.end() ? std::string("absent") : shapeText(it->second)) + " from the yaml";
    }
  }
  return m;
}

}  // namespace

CheckpointYaml checkpointYaml(const Graph& g, const PyRef& original) {
  CheckpointYaml r;
  if (!original || original->kind != PyValue::Kind::Dict || yoloYamlLayers(g).empty()) return r;
  r.tensors = static_cast<int64_t>(g.stateDict().size());
  const Match own = rebuildMatch(g, original);
  r.dict = original;
  r.matching = own.matching;
  r.why = own.why;
  if (own.matching == r.tensors) return r;
  const PyRef fresh = rewritten(g, original);
  const Match ours = rebuildMatch(g, fresh);
  // Only a whole rewrite replaces the file's dict: a partial one could state a width below
  // the model's somewhere, and readers (PruneLab's own) cut a model built from the yaml
  // down to a file's widths, never up.
  if (ours.matching == r.tensors) {
    r.dict = fresh;
    r.rewritten = true;
    r.matching = ours.matching;
    r.why = ours.why;
  }
  return r;
}

std::string describeCheckpointYaml(const CheckpointYaml& y) {
  if (!y.dict) return "";
  const std::string counts = std::to_string(y.matching) + "/" + std::to_string(y.tensors);
  const std::string where = "yolov5's train.py --weights, ultralytics' YOLO(...).train()";
  if (y.matching == y.tensors)
    return std::string("model yaml: ") + (y.rewritten ? "rewritten to the pruned widths" : "the file's own") + "; a rebuild from it (" +
           where + ") loads " + counts + " tensors";
  return "warning: the model's yaml cannot state every pruned width: a rebuild from it (" + where + ") loads " + counts +
         " tensors (" + y.why + "); the pickled model object itself is exact. Plan with --yaml-widths (prune) to keep to "
         "widths the yaml can state";
}

}  // namespace prunelab
