#include "models/yolo/yolo_builder.h"

#include <yaml-cpp/yaml.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/graph_builder.h"
#include "models/yolo/yolo_modules.h"
#include "models/yolo/yolo_yaml_widths.h"
#include "util/error.h"
#include "util/resources.h"

namespace fs = std::filesystem;

namespace prunelab {

namespace {

// Build-time input: ultralytics computes strides from a 256x256 dummy forward.
constexpr int64_t kBuildSize = 256;

// Bounds on what a YAML may ask for; the shipped configs use depth/width multiples up to
// 1.5, 9 repeats, 1024 channels and 25 layers. Beyond these a file is a typo or an attack
// (depth_multiple 1e5 builds for hours, width 1e6 allocates terabytes).
constexpr double kMaxMultiple = 16.0;
constexpr int64_t kMaxRepeats = 100;
constexpr int64_t kMaxChannels = 1 << 15;
constexpr size_t kMaxLayers = 1000;
constexpr int64_t kMaxClasses = 100000;

int64_t makeDivisible(double x, int64_t d) { return static_cast<int64_t>(std::ceil(x / double(d))) * d; }

struct Layer {
  std::vector<int> from;
  int64_t repeats;
  std::string module;
  YAML::Node args;
};

std::string layerName(size_t i) { return "model." + std::to_string(i); }

class YamlModel {
 public:
  YamlModel(const std::string& text, const std::string& source, const YoloOptions& o)
      : m_source(source), m_text(text), m_opt(o) {
    try {
      m_root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw Error(source, std::string("invalid YAML: ") + e.what());
    }
    if (!m_root.IsMap() || !m_root["backbone"] || !m_root["head"])
      throw Error(source, "not a YOLO model YAML (needs backbone: and head: lists)");
    m_nc = o.nc > 0 ? o.nc : get<int64_t>(m_root, "nc", 80);
    if (m_nc < 1 || m_nc > kMaxClasses)
      throw Error(source, "nc " + std::to_string(m_nc) + " is not in [1, " + std::to_string(kMaxClasses) + "]");
    m_anchorBased = static_cast<bool>(m_root["anchors"]);
    if (m_root["scales"]) {
      const YAML::Node scales = m_root["scales"];
      std::string scale = o.scale;
      if (scale.empty()) scale = scales.begin()->first.as<std::string>();
      if (!scales[scale]) throw Error(source, "has no scale '" + scale + "'");
      const auto v = scales[scale].as<std::vector<double>>();
      if (v.size() < 2) throw Error(source, "scale '" + scale + "' needs [depth, width, max_channels]");
      m_depth = v[0];
      m_width = v[1];
      // max_channels becomes an integer: a huge or NaN one would overflow the cast.
      if (v.size() > 2 && !(v[2] >= 1 && v[2] <= double(1 << 30)))
        throw Error(source, "scale '" + scale + "' has max_channels " + std::to_string(v[2]) + ", not in [1, " +
                                std::to_string(1 << 30) + "]");
      m_maxChannels = v.size() > 2 ? static_cast<int64_t>(v[2]) : (1 << 30);
      m_scale = scale;
    } else {
      m_depth = get<double>(m_root, "depth_multiple", 1.0);
      m_width = get<double>(m_root, "width_multiple", 1.0);
    }
    // Multipliers scale every layer: a negative, NaN or huge one would build nothing
    // sensible or allocate without bound.
    if (!(m_depth > 0 && m_depth <= kMaxMultiple))
      throw Error(source, "depth multiple " + std::to_string(m_depth) + " is not in (0, " + std::to_string(kMaxMultiple) + "]");
    if (!(m_width > 0 && m_width <= kMaxMultiple))
      throw Error(source, "width multiple " + std::to_string(m_width) + " is not in (0, " + std::to_string(kMaxMultiple) + "]");
    if (m_maxChannels < 1) throw Error(source, "max_channels " + std::to_string(m_maxChannels) + " is not positive");
    for (const char* part : {"backbone", "head"})
      for (const auto& l : m_root[part]) {
        const std::string where = "layer " + std::to_string(m_layers.size());
        if (m_layers.size() >= kMaxLayers) throw Error(source, "has more than " + std::to_string(kMaxLayers) + " layers");
        if (!l.IsSequence() || l.size() != 4) throw Error(source, where + ": expected [from, number, module, args]");
        Layer layer;
        try {
          if (l[0].IsSequence())
            for (const auto& f : l[0]) layer.from.push_back(f.as<int>());
          else
            layer.from.push_back(l[0].as<int>());
          layer.repeats = l[1].as<int64_t>();
          layer.module = l[2].as<std::string>();
        } catch (const YAML::Exception& e) {
          throw Error(source, where + ": " + e.what());
        }
        if (layer.repeats < 1 || layer.repeats > kMaxRepeats)
          throw Error(source, where + ": number " + std::to_string(layer.repeats) + " is not in [1, " +
                                  std::to_string(kMaxRepeats) + "]");
        layer.args = l[3];
        m_layers.push_back(layer);
      }
  }

  Graph build() {
    Graph g;
    GraphBuilder b(g);
    b.setWeightBudget(m_opt.maxWeights);
    b.setRandomInit(m_opt.randomInit);
    std::vector<ValueId> outs;  // output of every layer
    const ValueId input = b.input("input", {m_opt.inChannels, kBuildSize, kBuildSize});
    bool legacy = true;  // ultralytics: a C3k2 layer switches Detect to the depthwise class branch
    if (m_layers.size() > 1000) throw Error(m_source, "has " + std::to_string(m_layers.size()) + " layers (at most 1000)");
    for (size_t i = 0; i < m_layers.size(); ++i) {
      const Layer& L = m_layers[i];
      const std::string p = layerName(i);
      std::vector<ValueId> in;
      for (int f : L.from) {
        const int idx = f < 0 ? static_cast<int>(i) + f : f;
        if (idx < -1 || idx >= static_cast<int>(i)) throw Error(m_source, p + ": 'from' " + std::to_string(f) + " is out of range");
        in.push_back(idx < 0 ? input : outs[idx]);
      }
      if (L.module == "C3k2") legacy = false;
      try {
        outs.push_back(buildLayer(b, L, p, in, legacy));
      } catch (...) {
        // LibTorch's errors keep their first line only (no stack trace); YAML's say where.
        try {
          rethrowAsError(p + " (" + L.module + ")");
        } catch (const Error& e) {
          throw Error(m_source, e.what());
        }
      }
    }
    if (g.outputs().empty()) throw Error(m_source, "has no Detect layer");
    g.metadata()["model"] = m_name;
    g.metadata()["num_classes"] = std::to_string(m_nc);
    g.metadata()["input"] = std::to_string(m_opt.inChannels) + "x" + std::to_string(m_opt.inputSize) + "x" +
                            std::to_string(m_opt.inputSize);
    g.metadata()["task"] = "detect";
    g.metadata()["yolo_style"] = m_anchorBased ? "v5" : "dfl";
    if (!m_scale.empty()) g.metadata()["scale"] = m_scale;
    g.metadata()[kYoloYamlKey] = m_text;  // for plans that keep to the YAML's widths
    return g;
  }

  void setName(const std::string& n) { m_name = n; }

 private:
  template <typename T>
  T get(const YAML::Node& n, const char* key, T fallback) const {
    try {
      return n[key] ? n[key].as<T>() : fallback;
    } catch (const YAML::Exception&) {
      throw Error(m_source, std::string("'") + key + "' has the wrong type");
    }
  }

  int64_t depth(int64_t n) const {
    const int64_t d = n > 1 ? std::max<int64_t>(static_cast<int64_t>(std::nearbyint(double(n) * m_depth)), 1) : n;
    if (d > kMaxRepeats)
      throw Error("number " + std::to_string(n) + " x depth multiple " + std::to_string(m_depth) + " = " + std::to_string(d) +
                  " repeats, more than " + std::to_string(kMaxRepeats));
    return d;
  }

  int64_t width(int64_t c2) const {
    if (c2 < 1 || c2 > kMaxChannels) throw Error("channels " + std::to_string(c2) + " is not in [1, " + std::to_string(kMaxChannels) + "]");
    int64_t c = c2;
    if (m_anchorBased) c = makeDivisible(double(c2) * m_width, 8);
    else if (c2 != m_nc) c = makeDivisible(double(std::min(c2, m_maxChannels)) * m_width, 8);
    if (c > kMaxChannels)
      throw Error("channels " + std::to_string(c2) + " x width multiple " + std::to_string(m_width) + " = " + std::to_string(c) +
                  ", more than " + std::to_string(kMaxChannels));
    return c;
  }

  // An argument: numbers, bools, 'nc', None.
  YAML::Node arg(const Layer& L, size_t k) const { return k < L.args.size() ? L.args[k] : YAML::Node(); }
  // As written; channel arguments go through width(), which bounds them and says so.
  int64_t rawIntArg(const Layer& L, size_t k, int64_t fallback) const {
    const YAML::Node a = arg(L, k);
    if (!a || a.IsNull()) return fallback;
    const std::string s = a.as<std::string>();
    if (s == "nc") return m_nc;
    if (s == "None") return fallback;
    return a.as<int64_t>();
  }
  int64_t intArg(const Layer& L, size_t k, int64_t fallback) const {
    const int64_t v = rawIntArg(L, k, fallback);
    // Kernels, strides, paddings, dimensions: anything beyond this is a broken file.
    if (v < -1 || v > 65536) throw Error(L.module, "argument " + std::to_string(v) + " is out of range -1..65536");
    return v;
  }
  bool boolArg(const Layer& L, size_t k, bool fallback) const {
    const YAML::Node a = arg(L, k);
    return a && !a.IsNull() ? a.as<bool>() : fallback;
  }
  // Expansion ratios and upsampling factors: they multiply channel counts and sizes that
  // become integers, so a huge or NaN one would overflow the conversion.
  double floatArg(const Layer& L, size_t k, double fallback, const char* what = "expansion ratio") const {
    const YAML::Node a = arg(L, k);
    const double v = a && !a.IsNull() ? a.as<double>() : fallback;
    if (!(v > 0 && v <= kMaxMultiple))
      throw Error(L.module, std::string(what) + " " + std::to_string(v) + " is not in (0, " +
                                std::to_string(kMaxMultiple) + "]");
    return v;
  }

  std::vector<int64_t> stridesOf(GraphBuilder& b, const std::vector<ValueId>& in) const {
    std::vector<int64_t> s;
    for (ValueId v : in) s.push_back(kBuildSize / b.shape(v)[2]);
    return s;
  }

  ValueId buildLayer(GraphBuilder& b, const Layer& L, const std::string& p, const std::vector<ValueId>& in, bool legacy) {
    const std::string& m = L.module;
    const int64_t n = depth(L.repeats);
    ValueId x = in.at(0);
    if (m == "Conv") {
      ValueId y = x;
      const int64_t c2 = width(rawIntArg(L, 0, 0));
      const int64_t k = intArg(L, 1, 1), s = intArg(L, 2, 1), pad = intArg(L, 3, -1);
      // Checked again by the Conv's shape rule; here so the message names the YAML argument.
      if (k < 1 || k > 64) throw Error("kernel " + std::to_string(k) + " is not in [1, 64]");
      if (s < 1 || s > 64) throw Error("stride " + std::to_string(s) + " is not in [1, 64]");
      if (pad < -1 || pad > 64) throw Error("padding " + std::to_string(pad) + " is not in [-1, 64]");
      for (int64_t r = 0; r < n; ++r) y = yolo::conv(b, y, n > 1 ? p + "." + std::to_string(r) : p, c2, k, s, pad);
      return y;
    }
    // Arguments after c2 as the classes take them: C3/C2f(shortcut, g, e), C3k(shortcut, g, e, k),
    // C3k2(c3k, e, g, shortcut), C2PSA(e), Bottleneck(shortcut, g, k, e). A pruned model's
    // YAML states e per layer (models/yolo/yolo_yaml_widths.h).
    if (m == "C3") return yolo::c3(b, x, p, width(rawIntArg(L, 0, 0)), n, boolArg(L, 1, true), floatArg(L, 3, 0.5), 1, 3);
    if (m == "C3k") return yolo::c3(b, x, p, width(rawIntArg(L, 0, 0)), n, boolArg(L, 1, true), floatArg(L, 3, 0.5),
                                    intArg(L, 4, 3), intArg(L, 4, 3));
    if (m == "C2f") return yolo::c2f(b, x, p, width(rawIntArg(L, 0, 0)), n, boolArg(L, 1, false), floatArg(L, 3, 0.5), "c2f");
    if (m == "C3k2") {
      bool c3k = boolArg(L, 1, false);
      if (!m_scale.empty() && std::string("mlx").find(m_scale) != std::string::npos) c3k = true;
      return yolo::c2f(b, x, p, width(rawIntArg(L, 0, 0)), n, boolArg(L, 4, true), floatArg(L, 2, 0.5),
                       c3k ? "c3k" : "bottleneck");
    }
    if (m == "Bottleneck") return yolo::bottleneck(b, x, p, width(rawIntArg(L, 0, 0)), boolArg(L, 1, true), 3, 3, floatArg(L, 3, 0.5));
    if (m == "SPPF") return yolo::sppf(b, x, p, width(rawIntArg(L, 0, 0)), intArg(L, 1, 5));
    if (m == "C2PSA") return yolo::c2psa(b, x, p, width(rawIntArg(L, 0, 0)), n, floatArg(L, 1, 0.5));
    if (m == "Concat") {
      if (intArg(L, 0, 1) != 1) throw Error(p, "Concat is supported along channels (dimension 1) only");
      return b.graph().out(b.node(OpKind::Concat, p, in, {{"axis", int64_t{1}}}));
    }
    if (m == "nn.Upsample") {
      const std::string mode = arg(L, 2) ? arg(L, 2).as<std::string>() : "nearest";
      if (mode != "nearest") throw Error(p, "only nearest upsampling is supported, not '" + mode + "'");
      return b.graph().out(b.node(OpKind::Upsample, p, {x}, {{"scale", floatArg(L, 1, 2.0, "scale")}}));
    }
    if (m == "Detect") {
      const std::vector<int64_t> strides = stridesOf(b, in);
      if (m_anchorBased) {
        std::vector<std::vector<double>> anchors;
        const YAML::Node a = m_root["anchors"];
        for (const auto& level : a) anchors.push_back(level.as<std::vector<double>>());
        return yolo::detectV5(b, in, p, m_nc, anchors, strides).back();
      }
      return yolo::detectDfl(b, in, p, m_nc, legacy, strides).back();
    }
    throw Error(p, "unsupported module '" + m + "' (supported: Conv, Bottleneck, C3, C2f, C3k, C3k2, SPPF, C2PSA, "
                   "Concat, nn.Upsample, Detect)");
  }

  std::string m_source;
  std::string m_text;
  YoloOptions m_opt;
  YAML::Node m_root;
  std::vector<Layer> m_layers;
  int64_t m_nc = 80;
  bool m_anchorBased = false;
  double m_depth = 1.0, m_width = 1.0;
  int64_t m_maxChannels = 1 << 30;
  std::string m_scale;
  std::string m_name;
};

std::string readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Graph buildYoloFromYaml(const std::string& text, const std::string& source, const YoloOptions& options) {
  at::manual_seed(0);
  try {
    YamlModel m(text, source, options);
    m.setName(fs::path(source).stem().string());
    return m.build();
  } catch (const YAML::Exception& e) {  // a field of the wrong type anywhere in the file
    throw Error(source, std::string("bad value: ") + e.what());
  }
}

Graph buildYoloFromFile(const std::string& path, const YoloOptions& options) {
  return buildYoloFromYaml(readText(path), path, options);
}

std::string yoloResourceDir() { return resourceDir() + "/models"; }

namespace {
// "yolov8s" -> ("yolov8.yaml", "s"); "yolov5n" -> ("yolov5n.yaml", "").
std::pair<std::string, std::string> resolveName(const std::string& name) {
  const std::string dir = yoloResourceDir();
  if (fs::exists(dir + "/" + name + ".yaml")) return {dir + "/" + name + ".yaml", ""};
  if (name.size() > 1) {
    const std::string base = name.substr(0, name.size() - 1), scale = name.substr(name.size() - 1);
    if (fs::exists(dir + "/" + base + ".yaml")) return {dir + "/" + base + ".yaml", scale};
  }
  return {"", ""};
}
}  // namespace

std::vector<std::string> featuredYoloModels() { return {"yolov5n", "yolov5s", "yolov8n", "yolo11n"}; }

bool isYoloModelName(const std::string& name) { return !resolveName(name).first.empty(); }

Graph buildYoloModel(const std::string& name, const YoloOptions& options) {
  const auto [path, scale] = resolveName(name);
  if (path.empty()) throw Error("model '" + name + "'", "no YOLO config of that name in " + yoloResourceDir());
  YoloOptions o = options;
  if (o.scale.empty()) o.scale = scale;
  Graph g = buildYoloFromYaml(readText(path), path, o);
  g.metadata()["model"] = name;
  return g;
}

}  // namespace prunelab
