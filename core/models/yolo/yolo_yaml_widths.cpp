#include "models/yolo/yolo_yaml_widths.h"

#include <yaml-cpp/yaml.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include "util/error.h"

namespace prunelab {

namespace {

std::string scopeOf(int index) { return "model." + std::to_string(index) + "."; }

bool nodeExists(const Graph& g, const std::string& name) { return g.findNode(name) != nullptr; }

// Bottlenecks (or C3k / PSA blocks, told by `probe`) inside a block: m.0, m.1, ... as built.
int64_t repeatsOf(const Graph& g, const std::string& p, const char* probe = ".cv1.conv") {
  int64_t n = 0;
  while (nodeExists(g, p + "m." + std::to_string(n) + probe)) ++n;
  return n;
}

int64_t outChannels(const Graph& g, const std::string& conv) {
  const Node* n = g.findNode(conv);
  return n ? n->tensor("weight").size(0) : -1;
}

// One fit of one plan: the plan's groups, their kept counts and the channels chosen.
class Fit {
 public:
  Fit(const DependencyGraph& deps, const GroupScores& scores, PrunePlan& plan) : m_deps(deps), m_scores(scores), m_plan(plan) {
    for (const Group& grp : deps.groups())
      for (NodeId s : grp.sources) m_groupsOf[deps.graph().node(s).name].push_back(grp.id);
  }

  std::vector<int> groupsOf(const std::string& conv) const {
    const auto it = m_groupsOf.find(conv);
    return it == m_groupsOf.end() ? std::vector<int>{} : it->second;
  }
  // Every group with a source inside scope `p` ("model.9.").
  std::vector<int> groupsUnder(const std::string& p) const {
    std::vector<int> r;
    for (const auto& [name, ids] : m_groupsOf)
      if (name.rfind(p, 0) == 0) r.insert(r.end(), ids.begin(), ids.end());
    return r;
  }

  int64_t keep(int g) const { return group(g).size - static_cast<int64_t>(m_plan.removed[g].size()); }

  // Keeps `t` channels of group g (bounded by its pinned channels and its size): the
  // highest-scored ones, or the first ones when the group has no scores.
  void setKeep(int g, int64_t t) {
    const Group& grp = group(g);
    const int64_t pinned = grp.size - grp.prunableCount();
    t = std::clamp<int64_t>(t, std::max<int64_t>(pinned, 1), grp.size);
    if (t == keep(g)) return;
    const std::vector<double>& s = m_scores[g];
    const bool ranked = scored(s);
    std::vector<int64_t> order;
    for (int64_t k = 0; k < grp.size; ++k)
      if (!grp.pinned[k]) order.push_back(k);
    if (ranked) std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] < s[b]; });
    else std::reverse(order.begin(), order.end());
    order.resize(static_cast<size_t>(grp.size - t));
    std::sort(order.begin(), order.end());
    m_plan.removed[g] = std::move(order);
  }
  void setAll(const std::vector<int>& groups, int64_t t) {
    for (int g : groups) setKeep(g, t);
  }

  // The rounded-up mean of what the plan keeps in `groups` (-1 when empty).
  int64_t meanKeep(const std::vector<int>& groups) const {
    if (groups.empty()) return -1;
    int64_t sum = 0;
    for (int g : groups) sum += keep(g);
    const int64_t n = static_cast<int64_t>(groups.size());
    return (sum + n - 1) / n;
  }

  // A module output: rounded up to a multiple of 8 (make_divisible(c2, 8)).
  void roundOutput(const std::string& conv) {
    for (int g : groupsOf(conv)) setKeep(g, (keep(g) + 7) / 8 * 8);
  }

  // Channels of the value `conv` reads that the plan keeps.
  int64_t inputWidth(const std::string& conv) const {
    const Node* n = m_deps.graph().findNode(conv);
    if (!n) return -1;
    const ValueId v = n->inputs.at(0);
    int64_t kept = 0;
    for (int64_t k = 0; k < m_deps.channelCount(v); ++k) {
      const auto [g, c] = m_deps.locate(v, k);
      kept += g < 0 || !std::binary_search(m_plan.removed[g].begin(), m_plan.removed[g].end(), c);
    }
    return kept;
  }
  // Groups the input of `conv` draws its channels from.
  std::vector<int> inputGroups(const std::string& conv) const {
    const Node* n = m_deps.graph().findNode(conv);
    std::set<int> r;
    if (n) {
      const ValueId v = n->inputs.at(0);
      for (int64_t k = 0; k < m_deps.channelCount(v); ++k)
        if (const int g = m_deps.locate(v, k).first; g >= 0) r.insert(g);
    }
    return {r.begin(), r.end()};
  }
  void keepWhole(const std::vector<int>& groups) {
    for (int g : groups) setKeep(g, group(g).size);
  }

  const Graph& graph() const { return m_deps.graph(); }

 private:
  const Group& group(int g) const { return m_deps.groups()[static_cast<size_t>(g)]; }

  const DependencyGraph& m_deps;
  const GroupScores& m_scores;
  PrunePlan& m_plan;
  std::unordered_map<std::string, std::vector<int>> m_groupsOf;
};

void append(std::vector<int>& to, const std::vector<int>& more) {
  for (int g : more)
    if (std::find(to.begin(), to.end(), g) == to.end()) to.push_back(g);
}

// C3 (and a C3k layer): cv1, cv2 and every bottleneck share the hidden width c_.
void fitC3(Fit& f, const std::string& p) {
  std::vector<int> hidden;
  append(hidden, f.groupsOf(p + "cv1.conv"));
  append(hidden, f.groupsOf(p + "cv2.conv"));
  for (int64_t j = 0, n = repeatsOf(f.graph(), p); j < n; ++j) {
    const std::string m = p + "m." + std::to_string(j) + ".";
    append(hidden, f.groupsOf(m + "cv1.conv"));
    append(hidden, f.groupsOf(m + "cv2.conv"));
  }
  f.setAll(hidden, f.meanKeep(hidden));
  f.roundOutput(p + "cv3.conv");
}

// C2f / C3k2: both halves of cv1 and every block's output are `c`; inside, C2f's
// bottlenecks keep c, C3k2's keep int(c * 0.5), as do its C3k blocks throughout.
void fitC2f(Fit& f, const std::string& p, const std::string& module) {
  const int64_t n = repeatsOf(f.graph(), p);
  const bool c3k = nodeExists(f.graph(), p + "m.0.cv3.conv");
  std::vector<int> halves;
  append(halves, f.groupsOf(p + "cv1.conv"));
  for (int64_t j = 0; j < n; ++j)
    append(halves, f.groupsOf(p + "m." + std::to_string(j) + (c3k ? ".cv3.conv" : ".cv2.conv")));
  const int64_t c = f.meanKeep(halves);
  if (c < 0) return;
  f.setAll(halves, c);
  const int64_t inner = module == "C2f" ? c : c / 2;
  for (int64_t j = 0; j < n; ++j) {
    const std::string m = p + "m." + std::to_string(j) + ".";
    f.setAll(f.groupsOf(m + "cv1.conv"), inner);
    if (!c3k) continue;
    f.setAll(f.groupsOf(m + "cv2.conv"), inner);
    for (int64_t k = 0, nk = repeatsOf(f.graph(), m); k < nk; ++k) {
      const std::string b = m + "m." + std::to_string(k) + ".";
      f.setAll(f.groupsOf(b + "cv1.conv"), inner);
      f.setAll(f.groupsOf(b + "cv2.conv"), inner);
    }
  }
  f.roundOutput(p + "cv2.conv");
}

// ultralytics' Detect: hidden widths derived from the first input's width c0.
void fitDflDetect(Fit& f, const std::string& p, int64_t nc) {
  const int64_t c0 = f.inputWidth(p + "cv2.0.0.conv");
  if (c0 < 0) return;
  const int64_t box = std::max<int64_t>({16, c0 / 4, 64});
  const int64_t cls = std::max<int64_t>(c0, std::min<int64_t>(nc, 100));
  for (int l = 0; nodeExists(f.graph(), p + "cv2." + std::to_string(l) + ".0.conv"); ++l) {
    const std::string b = p + "cv2." + std::to_string(l) + ".", c = p + "cv3." + std::to_string(l) + ".";
    f.setAll(f.groupsOf(b + "0.conv"), box);
    f.setAll(f.groupsOf(b + "1.conv"), box);
    for (const char* conv : {"0.conv", "1.conv", "0.1.conv", "1.1.conv"}) f.setAll(f.groupsOf(c + conv), cls);
  }
}

void fitPlan(const std::vector<YoloYamlLayer>& layers, int64_t nc, const DependencyGraph& deps, const GroupScores& scores,
             PrunePlan& plan) {
  Fit f(deps, scores, plan);
  // C2PSA asserts equal input and output widths and derives its heads from them: it and
  // the layer feeding it stay whole.
  for (const YoloYamlLayer& L : layers)
    if (L.module == "C2PSA") {
      const std::string p = scopeOf(L.index);
      f.keepWhole(f.groupsUnder(p));
      f.keepWhole(f.inputGroups(p + "cv1.conv"));
    }
  for (const YoloYamlLayer& L : layers) {
    const std::string p = scopeOf(L.index);
    if (L.module == "Conv") f.roundOutput(p + "conv");
    else if (L.module == "C3" || L.module == "C3k") fitC3(f, p);
    else if (L.module == "C2f" || L.module == "C3k2") fitC2f(f, p, L.module);
    else if (L.module == "SPPF") {
      const int64_t in = f.inputWidth(p + "cv1.conv");
      if (in > 0) f.setAll(f.groupsOf(p + "cv1.conv"), in / 2);
      f.roundOutput(p + "cv2.conv");
    } else if (L.module == "Detect" && nodeExists(f.graph(), p + "cv2.0.0.conv")) {
      fitDflDetect(f, p, nc);
    }
  }
}

}  // namespace

std::vector<YoloYamlLayer> yoloYamlLayers(const Graph& graph) {
  const auto it = graph.metadata().find(kYoloYamlKey);
  if (it == graph.metadata().end()) return {};
  std::vector<YoloYamlLayer> layers;
  try {
    const YAML::Node root = YAML::Load(it->second);
    for (const char* part : {"backbone", "head"})
      for (const auto& l : root[part]) {
        YoloYamlLayer L;
        L.index = static_cast<int>(layers.size());
        if (l[0].IsSequence())
          for (const auto& x : l[0]) L.from.push_back(x.as<int>());
        else
          L.from.push_back(l[0].as<int>());
        L.module = l[2].as<std::string>();
        layers.push_back(std::move(L));
      }
  } catch (const YAML::Exception& e) {
    throw Error("the model's YAML", e.what());
  }
  return layers;
}

PlanWidthFit yoloYamlWidthFit(const Graph& graph) {
  std::vector<YoloYamlLayer> layers = yoloYamlLayers(graph);
  if (layers.empty())
    throw Error(graph.metadata().count("model") ? graph.metadata().at("model") : "model",
                "was not built from a YOLO YAML: there are no YAML widths to keep to");
  const auto nc = graph.metadata().find("num_classes");
  const int64_t classes = nc == graph.metadata().end() ? 80 : std::stoll(nc->second);
  return [layers = std::move(layers), classes](const DependencyGraph& deps, const GroupScores& scores, PrunePlan& plan) {
    fitPlan(layers, classes, deps, scores, plan);
  };
}

std::vector<YoloLayerWidths> yoloLayerWidths(const Graph& graph) {
  std::vector<YoloLayerWidths> out;
  for (const YoloYamlLayer& L : yoloYamlLayers(graph)) {
    const std::string p = scopeOf(L.index);
    YoloLayerWidths w;
    w.index = L.index;
    w.module = L.module;
    if (L.module == "Conv") {
      w.c2 = outChannels(graph, p + "conv");
    } else if (L.module == "C3" || L.module == "C3k") {
      w.c2 = outChannels(graph, p + "cv3.conv");
      w.hidden = outChannels(graph, p + "cv1.conv");
      w.repeats = repeatsOf(graph, p);
    } else if (L.module == "C2f" || L.module == "C3k2" || L.module == "C2PSA") {
      w.c2 = outChannels(graph, p + "cv2.conv");
      w.hidden = outChannels(graph, p + "cv1.conv") / 2;
      w.repeats = L.module == "C2PSA" ? repeatsOf(graph, p, ".attn.qkv.conv") : repeatsOf(graph, p);
      w.c3k = nodeExists(graph, p + "m.0.cv3.conv");
    } else if (L.module == "SPPF") {
      w.c2 = outChannels(graph, p + "cv2.conv");
    }
    out.push_back(w);
  }
  return out;
}

double expansionFor(int64_t hidden, int64_t c2) {
  if (hidden < 1 || c2 < 1) throw Error("expansion", "needs positive widths");
  double e = double(hidden) / double(c2);
  while (static_cast<int64_t>(double(c2) * e) < hidden) e = std::nextafter(e, INFINITY);
  while (e > 0 && static_cast<int64_t>(double(c2) * std::nextafter(e, 0.0)) >= hidden) e = std::nextafter(e, 0.0);
  return e;
}

}  // namespace prunelab
