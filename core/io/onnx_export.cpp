#include "io/onnx_export.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "analysis/shape_inference.h"
#include "detect/yolo_head.h"
#include "io/graph_json.h"
#include "io/onnx_tensor.h"
#include "graph/input_shape.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

namespace {

using nlohmann::json;

class OnnxExporter {
 public:
  OnnxExporter(const Graph& graph, const OnnxExportOptions& options) : m_g(graph), m_opt(options) {}

  onnx::ModelProto run(const Shape& inputChw) {
    if (m_opt.opset < 13 || m_opt.opset > 17)
      throw Error("ONNX export", "opset " + std::to_string(m_opt.opset) + " is not supported (13 to 17)");
    const Shape chw = inputChw.empty() ? defaultInputShape(m_g) : inputChw;
    Shape in{1};
    in.insert(in.end(), chw.begin(), chw.end());
    inferShapes(m_g, std::vector<Shape>(m_g.inputs().size(), in));

    onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("PruneLab");
    model.set_producer_version(PRUNELAB_VERSION);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(m_opt.opset);
    for (const auto& [k, v] : m_g.metadata()) {
      auto* p = model.add_metadata_props();
      p->set_key("prunelab." + k);
      p->set_value(v);
    }
    m_gp = model.mutable_graph();
    m_gp->set_name(m_g.metadata().count("model") ? m_g.metadata().at("model") : "prunelab");
    for (ValueId v : m_g.inputs()) describe(m_gp->add_input(), m_g.value(v));
    planBnFolding();
    for (const Node& n : m_g.nodes()) {
      if (m_foldedInto.count(n.id)) continue;  // a BatchNorm folded into its Conv
      withErrorContext(n.name, [&] { emitNode(n); });
    }
    for (ValueId v : m_g.outputs()) describe(m_gp->add_output(), m_g.value(v));
    return model;
  }

 private:
  // --- building blocks ----------------------------------------------------------------------

  void describe(onnx::ValueInfoProto* info, const Value& v) {
    info->set_name(v.name);
    auto* tt = info->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = tt->mutable_shape();
    for (size_t d = 0; d < v.shape.size(); ++d) {
      auto* dim = shape->add_dim();
      if (d == 0 && m_opt.dynamicBatch) dim->set_dim_param("batch");
      else dim->set_dim_value(v.shape[d]);
    }
  }

  // Adds an initializer; a name already taken gets a suffix ("_1", "_2"...).
  std::string init(const at::Tensor& t, const std::string& wanted) {
    std::string name = wanted;
    for (int k = 1; !m_initNames.insert(name).second; ++k) name = wanted + "_" + std::to_string(k);
    tensorToOnnx(t, name, *m_gp->add_initializer());
    return name;
  }
  // An int64 or float helper constant, named after the node that needs it.
  std::string ints(const std::vector<int64_t>& v, const std::string& what) {
    return init(at::tensor(v, at::kLong), m_prefix + "/" + what);
  }
  std::string floats(const std::vector<float>& v, const std::string& what) {
    return init(at::tensor(v, at::kFloat), m_prefix + "/" + what);
  }

  onnx::NodeProto* op(const std::string& type, const std::vector<std::string>& inputs, const std::string& output = {}) {
    auto* n = m_gp->add_node();
    n->set_op_type(type);
    const int k = m_gp->node_size() - m_groupStart;
    n->set_name(k == 1 ? m_prefix : m_prefix + "/" + type + "_" + std::to_string(k - 1));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output.empty() ? m_prefix + "/" + type + "_" + std::to_string(k - 1) + "_out" : output);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, double v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static std::string out(const onnx::NodeProto* n) { return n->output(0); }

  // --- BN folding ---------------------------------------------------------------------------

  void planBnFolding() {
    if (!m_opt.foldBn) return;
    for (const Node& n : m_g.nodes()) {
      if (n.op != OpKind::BatchNorm) continue;
      const Value& in = m_g.value(n.inputs[0]);
      if (in.producer < 0 || in.consumers.size() != 1) continue;
      const Node& conv = m_g.node(in.producer);
      if (conv.op != OpKind::Conv) continue;
      if (std::find(m_g.outputs().begin(), m_g.outputs().end(), in.id) != m_g.outputs().end()) continue;
      m_foldedInto[n.id] = conv.id;
      m_bnOf[conv.id] = n.id;
    }
  }

  // --- one IR node --------------------------------------------------------------------------

  void emitNode(const Node& n) {
    m_prefix = n.name;
    m_groupStart = m_gp->node_size();
    std::vector<std::string> x;
    for (ValueId v : n.inputs) x.push_back(m_g.value(v).name);
    std::vector<std::string> y;
    for (ValueId v : n.outputs) y.push_back(m_g.value(v).name);
    json tensors = json::array();
    // Tensors as initializers named by state_dict key; `tensors` goes into the tag.
    auto param = [&](const std::string& tensorName, const at::Tensor& t) {
      const NamedTensor* nt = nullptr;
      for (const auto& c : n.tensors)
        if (c.name == tensorName) nt = &c;
      const std::string name = init(t, n.key(tensorName));
      tensors.push_back({{"name", tensorName}, {"init", name}, {"buffer", nt ? nt->isBuffer : false}});
      return name;
    };
    auto keepAll = [&] {  // tensors the ONNX op does not read still travel for the round trip
      for (const auto& t : n.tensors) {
        bool done = false;
        for (const auto& j : tensors) done |= j.at("name") == t.name;
        if (!done) param(t.name, t.tensor);
      }
    };
    Node tagged = n;  // what the tag describes (a folded Conv differs from n)
    const Shape& inShape = n.inputs.empty() ? Shape{} : m_g.value(n.inputs[0]).shape;

    switch (n.op) {
      case OpKind::Conv: {
        at::Tensor w = n.tensor("weight").detach();
        at::Tensor b = n.optionalTensor("bias");
        if (auto it = m_bnOf.find(n.id); it != m_bnOf.end()) {
          const Node& bn = m_g.node(it->second);
          const at::Tensor scale = bn.tensor("weight").detach() /
                                   at::sqrt(bn.tensor("running_var").detach() + bn.attrs.getFloat("eps", 1e-5));
          w = w * scale.reshape({-1, 1, 1, 1});
          const at::Tensor b0 = b.defined() ? b.detach() : at::zeros_like(scale);
          b = (b0 - bn.tensor("running_mean").detach()) * scale + bn.tensor("bias").detach();
          y = {m_g.value(bn.outputs[0]).name};
          tagged.tensors = {{"weight", w, false}, {"bias", b, false}};
        }
        std::vector<std::string> in{x[0], param("weight", w)};
        if (b.defined()) in.push_back(param("bias", b.detach()));
        auto* c = op("Conv", in, y[0]);
        const auto p = n.attrs.getInts("padding", {0, 0});
        attr(c, "kernel_shape", std::vector<int64_t>{w.size(2), w.size(3)});
        attr(c, "strides", n.attrs.getInts("stride", {1, 1}));
        attr(c, "pads", std::vector<int64_t>{p[0], p[1], p[0], p[1]});
        attr(c, "dilations", n.attrs.getInts("dilation", {1, 1}));
        attr(c, "group", n.attrs.getInt("groups", 1));
        if (m_bnOf.count(n.id)) {
          // The tag describes the folded Conv; its output keeps the BN's value name.
          return finishTag(tagged, x, y, tensors);
        }
        break;
      }
      case OpKind::BatchNorm: {
        const int64_t c = n.tensor("running_mean").size(0);
        const at::Tensor w = n.hasTensor("weight") ? n.tensor("weight") : at::ones({c});
        const at::Tensor b = n.hasTensor("bias") ? n.tensor("bias") : at::zeros({c});
        auto* bn = op("BatchNormalization", {x[0], param("weight", w), param("bias", b), param("running_mean", n.tensor("running_mean")),
                                             param("running_var", n.tensor("running_var"))}, y[0]);
        attr(bn, "epsilon", n.attrs.getFloat("eps", 1e-5));
        attr(bn, "momentum", 1.0 - n.attrs.getFloat("momentum", 0.1));
        break;
      }
      case OpKind::ReLU: op("Relu", {x[0]}, y[0]); break;
      case OpKind::ReLU6: op("Clip", {x[0], floats({0.f}, "min"), floats({6.f}, "max")}, y[0]); break;
      case OpKind::Sigmoid: op("Sigmoid", {x[0]}, y[0]); break;
      case OpKind::SiLU: op("Mul", {x[0], out(op("Sigmoid", {x[0]}))}, y[0]); break;
      case OpKind::LeakyReLU: attr(op("LeakyRelu", {x[0]}, y[0]), "alpha", n.attrs.getFloat("negative_slope", 0.01)); break;
      case OpKind::Hardswish:
        if (m_opt.opset >= 14) {
          op("HardSwish", {x[0]}, y[0]);
        } else {
          auto* hs = op("HardSigmoid", {x[0]});
          attr(hs, "alpha", 1.0 / 6);
          attr(hs, "beta", 0.5);
          op("Mul", {x[0], out(hs)}, y[0]);
        }
        break;
      case OpKind::Add: op("Add", x, y[0]); break;
      case OpKind::Mul: op("Mul", x, y[0]); break;
      case OpKind::Sub: op("Sub", x, y[0]); break;
      case OpKind::Div: op("Div", x, y[0]); break;
      case OpKind::Pow: op("Pow", x, y[0]); break;
      case OpKind::Concat: {
        std::vector<std::string> parts;
        for (const auto& v : x)
          if (!m_empty.count(v)) parts.push_back(v);
        attr(op("Concat", parts, y[0]), "axis", n.attrs.getInt("axis", 1));
        break;
      }
      case OpKind::Split: {
        const auto sizes = n.attrs.getInts("split");
        const int64_t axis = n.attrs.getInt("axis", 1);
        if (std::adjacent_find(sizes.begin(), sizes.end(), std::not_equal_to<>()) == sizes.end()) {
          auto* s = op("Split", {x[0], ints(sizes, "split")}, y[0]);
          for (size_t i = 1; i < y.size(); ++i) s->add_output(y[i]);
          attr(s, "axis", axis);
        } else {  // unequal parts: one Slice each (OpenCV DNN 4.6 splits evenly only)
          int64_t start = 0;
          for (size_t i = 0; i < y.size(); ++i) {
            // A part pruned to nothing that only Concats read is left out (OpenCV DNN
            // rejects empty slices); Concat skips it below.
            if (sizes[i] == 0 && onlyConcatsRead(n.outputs[i])) m_empty.insert(y[i]);
            else op("Slice", {x[0], ints({start}, "starts"), ints({start + sizes[i]}, "ends"), ints({axis}, "axes")}, y[i]);
            start += sizes[i];
          }
        }
        break;
      }
      case OpKind::MaxPool:
      case OpKind::AvgPool: {
        auto* p = op(n.op == OpKind::MaxPool ? "MaxPool" : "AveragePool", {x[0]}, y[0]);
        const auto k = n.attrs.getInts("kernel");
        const auto pad = n.attrs.getInts("padding", {0, 0});
        attr(p, "kernel_shape", k);
        attr(p, "strides", n.attrs.has("stride") ? n.attrs.getInts("stride") : k);
        attr(p, "pads", std::vector<int64_t>{pad[0], pad[1], pad[0], pad[1]});
        attr(p, "ceil_mode", n.attrs.getInt("ceil_mode", 0));
        if (n.op == OpKind::MaxPool) {
          const auto d = n.attrs.getInts("dilation", {1, 1});
          if (d != std::vector<int64_t>{1, 1}) attr(p, "dilations", d);
        } else {
          attr(p, "count_include_pad", n.attrs.getInt("count_include_pad", 1));
        }
        break;
      }
      case OpKind::GlobalAvgPool: op("GlobalAveragePool", {x[0]}, y[0]); break;
      case OpKind::Upsample: {
        const float s = static_cast<float>(n.attrs.getFloat("scale"));
        auto* r = op("Resize", {x[0], "", floats({1.f, 1.f, s, s}, "scales")}, y[0]);
        attr(r, "mode", std::string("nearest"));
        attr(r, "coordinate_transformation_mode", std::string("asymmetric"));
        attr(r, "nearest_mode", std::string("floor"));
        break;
      }
      case OpKind::Flatten: attr(op("Flatten", {x[0]}, y[0]), "axis", n.attrs.getInt("start_dim", 1)); break;
      case OpKind::Linear: {
        const at::Tensor w = n.tensor("weight");
        if (inShape.size() == 2) {
          std::vector<std::string> in{x[0], param("weight", w)};
          if (n.hasTensor("bias")) in.push_back(param("bias", n.tensor("bias")));
          attr(op("Gemm", in, y[0]), "transB", int64_t{1});
        } else {  // batched input: x @ W^T (+ b); the tag keeps W as the weight
          const std::string wt = init(w.detach().t().contiguous(), n.key("weight") + ".T");
          tensors.push_back({{"name", "weight"}, {"init", wt}, {"buffer", false}, {"transpose", true}});
          if (n.hasTensor("bias")) op("Add", {out(op("MatMul", {x[0], wt})), param("bias", n.tensor("bias"))}, y[0]);
          else op("MatMul", {x[0], wt}, y[0]);
        }
        break;
      }
      case OpKind::Dropout:
      case OpKind::Identity: op("Identity", {x[0]}, y[0]); break;
      case OpKind::Reshape:
        if (x.size() == 2) op("Reshape", {x[0], out(op("Shape", {x[1]}))}, y[0]);
        else op("Reshape", {x[0], ints(batchFree(n.attrs.getInts("shape"), inShape), "shape")}, y[0]);
        break;
      case OpKind::Unflatten: {
        const int64_t dim = n.attrs.getInt("dim");
        std::vector<int64_t> shape(static_cast<size_t>(dim), 0);  // leading dims copied
        for (int64_t s : n.attrs.getInts("sizes")) shape.push_back(s);
        shape.insert(shape.end(), inShape.begin() + dim + 1, inShape.end());
        op("Reshape", {x[0], ints(shape, "shape")}, y[0]);
        break;
      }
      case OpKind::Transpose: attr(op("Transpose", {x[0]}, y[0]), "perm", n.attrs.getInts("perm")); break;
      case OpKind::MatMul:
        if (n.attrs.has("alpha"))
          op("Mul", {out(op("MatMul", x)), floats({static_cast<float>(n.attrs.getFloat("alpha"))}, "alpha")}, y[0]);
        else
          op("MatMul", x, y[0]);
        break;
      case OpKind::Softmax: attr(op("Softmax", {x[0]}, y[0]), "axis", n.attrs.getInt("axis", -1)); break;
      case OpKind::Slice: {
        const auto axes = n.attrs.getInts("axes");
        op("Slice", {x[0], ints(n.attrs.getInts("starts"), "starts"), ints(n.attrs.getInts("ends"), "ends"), ints(axes, "axes"),
                     ints(n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1)), "steps")},
           y[0]);
        break;
      }
      case OpKind::Constant: op("Identity", {param("value", n.tensor("value"))}, y[0]); break;
      case OpKind::DetectDecode:
        if (n.attrs.getString("style") == "v5") emitDecodeV5(n, x, y[0], param);
        else emitDecodeDfl(n, x, y[0], param);
        break;
    }
    keepAll();
    finishTag(tagged, x, y, tensors);
  }

  bool onlyConcatsRead(ValueId v) const {
    const Value& value = m_g.value(v);
    if (std::find(m_g.outputs().begin(), m_g.outputs().end(), v) != m_g.outputs().end()) return false;
    for (NodeId c : value.consumers)
      if (m_g.node(c).op != OpKind::Concat) return false;
    return true;
  }

  // Reshape targets: a leading batch size becomes 0 (copy) so the batch stays dynamic.
  std::vector<int64_t> batchFree(std::vector<int64_t> shape, const Shape& in) const {
    if (m_opt.dynamicBatch && !shape.empty() && !in.empty() && shape[0] > 0 && shape[0] == in[0]) shape[0] = 0;
    return shape;
  }

  template <typename Param>
  void emitDecodeV5(const Node& n, const std::vector<std::string>& x, const std::string& y, Param& param) {
    const auto strides = n.attrs.getInts("strides");
    const at::Tensor anchors = n.tensor("anchors").detach().to(at::kFloat);  // [nl, na, 2] grid units
    param("anchors", n.tensor("anchors"));
    std::vector<std::string> levels;
    for (size_t i = 0; i < x.size(); ++i) {
      const Shape& s = m_g.value(n.inputs[i]).shape;  // [bs, na, ny, nx, no]
      const int64_t na = s[1], ny = s[2], nx = s[3], no = s[4];
      const float stride = static_cast<float>(strides.at(i));
      const std::string L = "l" + std::to_string(i) + "_";
      // Constants at the full [1, na, ny, nx, 2] (as yolov5's own export): OpenCV DNN 4.6
      // cannot broadcast a 5-D operand over inner dims.
      const std::string grid = init(detect::gridPoints(ny, nx, -0.5, at::kFloat).view({1, 1, ny, nx, 2}).expand({1, na, ny, nx, 2}).contiguous(),
                                    m_prefix + "/" + L + "grid");
      const std::string anchorPx = init((anchors[static_cast<int64_t>(i)] * stride).view({1, na, 1, 1, 2}).expand({1, na, ny, nx, 2}).contiguous(),
                                        m_prefix + "/" + L + "anchor_px");
      const std::string sig = out(op("Sigmoid", {x[i]}));
      auto slice = [&](int64_t a, int64_t b) {
        return out(op("Slice", {sig, ints({a}, L + "s" + std::to_string(a)), ints({b}, L + "e" + std::to_string(b)), ints({4}, L + "ax")}));
      };
      const std::string two = floats({2.f}, L + "two");
      const std::string xy = out(op("Mul", {out(op("Add", {out(op("Mul", {slice(0, 2), two})), grid})), floats({stride}, L + "stride")}));
      const std::string wh = out(op("Mul", {out(op("Pow", {out(op("Mul", {slice(2, 4), two})), two})), anchorPx}));
      auto* cat = op("Concat", {xy, wh, slice(4, no)});
      attr(cat, "axis", int64_t{4});
      levels.push_back(out(op("Reshape", {out(cat), ints({0, na * ny * nx, no}, L + "rows")})));
    }
    attr(op("Concat", levels, y), "axis", int64_t{1});
  }

  template <typename Param>
  void emitDecodeDfl(const Node& n, const std::vector<std::string>& x, const std::string& y, Param& param) {
    const auto strides = n.attrs.getInts("strides");
    const int64_t regMax = n.attrs.getInt("reg_max", 16);
    const std::string bins = param("weight", n.tensor("weight"));  // [1, reg_max, 1, 1]: a 1x1 conv's weight
    const int64_t channels = m_g.value(n.inputs[0]).shape[1], nc = channels - 4 * regMax;
    std::vector<std::string> flat;
    std::vector<at::Tensor> points, scale;
    for (size_t i = 0; i < x.size(); ++i) {
      const Shape& s = m_g.value(n.inputs[i]).shape;
      flat.push_back(out(op("Reshape", {x[i], ints({0, channels, -1}, "flat" + std::to_string(i))})));
      points.push_back(detect::gridPoints(s[2], s[3], 0.5, at::kFloat));
      scale.push_back(at::full({s[2] * s[3], 1}, static_cast<float>(strides.at(i))));
    }
    const int64_t a = at::cat(points, 0).size(0);
    const std::string anchors = init(at::cat(points, 0).t().unsqueeze(0).contiguous(), m_prefix + "/anchor_points");  // [1,2,A]
    // [1,4,A], not [1,1,A]: OpenCV DNN 4.6 does not broadcast over the channel dim.
    const std::string stride = init(at::cat(scale, 0).t().unsqueeze(0).expand({1, 4, -1}).contiguous(), m_prefix + "/stride_tensor");
    auto* cat = op("Concat", flat);
    attr(cat, "axis", int64_t{2});
    const std::string all = out(cat);  // [bs, C, A]
    auto slice = [&](const std::string& t, int64_t b, int64_t e, int64_t axis, const std::string& tag) {
      return out(op("Slice", {t, ints({b}, tag + "_s"), ints({e}, tag + "_e"), ints({axis}, tag + "_ax")}));
    };
    // DFL: [bs, 4, reg, A] -> bins on the channel dim -> softmax -> 1x1 conv with the bins.
    const std::string box = out(op("Reshape", {slice(all, 0, 4 * regMax, 1, "box"), ints({0, 4, regMax, a}, "box_shape")}));
    auto* tr = op("Transpose", {box});
    attr(tr, "perm", std::vector<int64_t>{0, 2, 1, 3});
    auto* sm = op("Softmax", {out(tr)});
    attr(sm, "axis", int64_t{1});
    auto* conv = op("Conv", {out(sm), bins});
    attr(conv, "kernel_shape", std::vector<int64_t>{1, 1});
    const std::string dist = out(op("Reshape", {out(conv), ints({0, 4, a}, "dist_shape")}));  // [bs, 4, A]
    const std::string lt = slice(dist, 0, 2, 1, "lt"), rb = slice(dist, 2, 4, 1, "rb");
    const std::string x1y1 = out(op("Sub", {anchors, lt})), x2y2 = out(op("Add", {anchors, rb}));
    const std::string c = out(op("Div", {out(op("Add", {x1y1, x2y2})), floats({2.f}, "two")}));
    const std::string wh = out(op("Sub", {x2y2, x1y1}));
    auto* boxes = op("Concat", {c, wh});
    attr(boxes, "axis", int64_t{1});
    const std::string xywh = out(op("Mul", {out(boxes), stride}));
    const std::string cls = out(op("Sigmoid", {slice(all, 4 * regMax, 4 * regMax + nc, 1, "cls")}));
    attr(op("Concat", {xywh, cls}, y), "axis", int64_t{1});
  }

  // Tags the group's first node with the IR node it came from.
  void finishTag(const Node& n, const std::vector<std::string>& x, const std::vector<std::string>& y, const json& tensors) {
    const int count = m_gp->node_size() - m_groupStart;
    if (count == 0) throw Error(n.name, "op " + std::string(opKindName(n.op)) + " produced no ONNX node");
    const json tag = {{"op", opKindName(n.op)}, {"name", n.name},  {"scope", n.scope}, {"attrs", attributesToJson(n.attrs)},
                      {"tensors", tensors},     {"inputs", x},     {"outputs", y},     {"nodes", count}};
    m_gp->mutable_node(m_groupStart)->set_doc_string("prunelab:" + tag.dump());
  }

  Graph m_g;  // a shallow copy: shapes are inferred on it at the export size
  OnnxExportOptions m_opt;
  onnx::GraphProto* m_gp = nullptr;
  std::string m_prefix;
  int m_groupStart = 0;
  std::map<NodeId, NodeId> m_foldedInto;  // BatchNorm -> its Conv
  std::map<NodeId, NodeId> m_bnOf;        // Conv -> its folded BatchNorm
  std::set<std::string> m_initNames;
  std::set<std::string> m_empty;  // zero-width values left out of the file
};

}  // namespace

void exportOnnx(const Graph& graph, const std::string& path, const OnnxExportOptions& options, const Shape& inputChw) {
  const onnx::ModelProto model = OnnxExporter(graph, options).run(inputChw);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error(path, "cannot serialize the ONNX model (over 2 GB?)");
  writeFileAtomically(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace prunelab
