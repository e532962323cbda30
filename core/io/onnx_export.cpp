#include "io/onnx_export.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/shape_inference.h"
#include "io/graph_json.h"
#include "ops/onnx_emitter.h"
#include "io/onnx_tag.h"
#include "io/onnx_tensor.h"
#include "graph/input_shape.h"
#include "ops/op_table.h"
#include "passes/fold_batchnorm.h"
#include "passes/lowering.h"
#include "util/atomic_file.h"
#include "util/base64.h"
#include "util/error.h"

namespace prunelab {

// --- OnnxNode and the emitter's helpers (ops/onnx_emitter.h) -------------------------------------

OnnxNode& OnnxNode::attr(const std::string& name, int64_t v) {
  auto* a = m_proto->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
  return *this;
}
OnnxNode& OnnxNode::attr(const std::string& name, double v) {
  auto* a = m_proto->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(static_cast<float>(v));
  return *this;
}
OnnxNode& OnnxNode::attr(const std::string& name, const std::string& v) {
  auto* a = m_proto->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
  return *this;
}
OnnxNode& OnnxNode::attr(const std::string& name, const std::vector<int64_t>& v) {
  auto* a = m_proto->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
  return *this;
}
OnnxNode& OnnxNode::addOutput(const std::string& name) {
  m_proto->add_output(name);
  return *this;
}
std::string OnnxNode::out() const { return m_proto->output(0); }

std::string OnnxEmitter::ints(const std::vector<int64_t>& v, const std::string& what) {
  return constant(at::tensor(v, at::kLong), what);
}
std::string OnnxEmitter::floats(const std::vector<float>& v, const std::string& what) {
  return constant(at::tensor(v, at::kFloat), what);
}

namespace {

using nlohmann::json;

// Walks the graph; each IR node's ONNX form (OpSpec::onnxExport) writes through this.
// Composite nodes (OpSpec::lowered) are written as their lowering's primitives, each
// through its own form, in one group tagged with the composite node.
class OnnxExporter : public OnnxEmitter {
 public:
  OnnxExporter(const Graph& graph, const OnnxExportOptions& options)
      : m_g(options.foldBn ? passes::foldBatchNorm(graph) : graph.share()), m_opt(options) {}

  onnx::ModelProto run(const Shape& inputChw) {
    if (m_opt.opset < 13 || m_opt.opset > 17)
      throw Error("ONNX export", "opset " + std::to_string(m_opt.opset) + " is not supported (13 to 17)");
    const Shape chw = inputChw.empty() ? defaultInputShape(m_g) : inputChw;
    Shape in{m_opt.dynamicBatch ? 1 : std::max(1, m_opt.batch)};
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
      // A trainer checkpoint's object tree: no use to ONNX readers. (The YOLO YAML goes
      // along: a model imported back keeps the widths its YAML can state.)
      if (k.rfind("pt.", 0) == 0) continue;
      auto* p = model.add_metadata_props();
      p->set_key("prunelab." + k);
      p->set_value(v);
    }
    m_gp = model.mutable_graph();
    m_gp->set_name(m_g.metadata().count("model") ? m_g.metadata().at("model") : "prunelab");
    for (ValueId v : m_g.inputs()) describe(m_gp->add_input(), m_g.value(v));
    for (const Node& n : m_g.nodes()) withErrorContext(n.name, [&] { emitNode(n); });
    for (ValueId v : m_g.outputs()) describe(m_gp->add_output(), m_g.value(v));
    writeTags(takeUnreadInitializers());
    return model;
  }

  // --- OnnxEmitter ----------------------------------------------------------------------------

  const Graph& graph() const override { return m_fragment ? *m_fragment : m_g; }
  int opset() const override { return m_opt.opset; }
  bool dynamicBatch() const override { return m_opt.dynamicBatch; }
  const std::vector<std::string>& inputs() const override { return m_x; }
  const std::vector<std::string>& outputs() const override { return m_y; }

  OnnxNode op(const std::string& type, const std::vector<std::string>& inputs, const std::string& output) override {
    auto* n = m_gp->add_node();
    n->set_op_type(type);
    const int k = m_gp->node_size() - m_groupStart;
    n->set_name(k == 1 ? m_prefix : m_prefix + "/" + type + "_" + std::to_string(k - 1));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output.empty() ? m_prefix + "/" + type + "_" + std::to_string(k - 1) + "_out" : output);
    return OnnxNode(n);
  }

  std::string param(const std::string& tensorName, const at::Tensor& t, bool transposed) override {
    if (transposed) {
      const std::string name = init(t.detach().t().contiguous(), m_node->key(tensorName) + ".T");
      m_tensors.push_back({{"name", tensorName}, {"init", name}, {"buffer", false}, {"transpose", true}});
      return name;
    }
    const NamedTensor* nt = nullptr;
    for (const auto& c : m_node->tensors)
      if (c.name == tensorName) nt = &c;
    const std::string name = init(t, m_node->key(tensorName));
    m_tensors.push_back({{"name", tensorName}, {"init", name}, {"buffer", nt ? nt->isBuffer : false}});
    return name;
  }

  std::string constant(const at::Tensor& t, const std::string& what) override { return init(t, m_prefix + "/" + what); }

  void omit(const std::string& value) override { m_empty.insert(value); }
  bool omitted(const std::string& value) const override { return m_empty.count(value) > 0; }

 private:
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

  void emitNode(const Node& n) {
    const OpSpec& spec = opSpec(n.op);
    if (!spec.onnxExport && !spec.lowered) throw Error(n.name, "op " + std::string(opKindName(n.op)) + " has no ONNX form");
    m_node = &n;
    m_prefix = n.name;
    m_groupStart = m_gp->node_size();
    m_x.clear();
    for (ValueId v : n.inputs) m_x.push_back(m_g.value(v).name);
    m_y.clear();
    for (ValueId v : n.outputs) m_y.push_back(m_g.value(v).name);
    m_tensors = json::array();
    if (spec.lowered) emitLowered(n);
    else spec.onnxExport(*this, n);
    // Tensors the ONNX ops do not read still travel, for the round trip (in the tag: see
    // takeUnreadInitializers).
    for (const auto& t : n.tensors) {
      bool done = false;
      for (const auto& j : m_tensors) done |= j.at("name") == t.name;
      if (!done) param(t.name, t.tensor, false);
    }
    recordTag(n, m_x, m_y);
  }

  // The fragment's primitives, with its inputs and output named as the composite's and
  // its Constants as initializers; the tag (written by the caller) keeps the composite.
  void emitLowered(const Node& n) {
    std::vector<Shape> shapes;
    for (ValueId v : n.inputs) shapes.push_back(m_g.value(v).shape);
    const Graph fragment = passes::lowerNode(n, shapes);
    const std::vector<std::string> x = m_x, y = m_y;
    std::vector<std::string> names(fragment.values().size());
    for (size_t i = 0; i < fragment.inputs().size(); ++i) names[fragment.inputs()[i]] = x.at(i);
    for (size_t i = 0; i < fragment.outputs().size(); ++i) names[fragment.outputs()[i]] = y.at(i);
    for (const Value& v : fragment.values())
      if (names[v.id].empty()) names[v.id] = v.name;  // "<composite name>/<step>": unique in the file
    m_fragment = &fragment;
    for (const Node& f : fragment.nodes()) {
      if (f.op == OpKind::Constant) {
        names[f.outputs[0]] = constant(f.tensor("value"), f.name.substr(n.name.size() + 1));
        continue;
      }
      m_node = &f;
      m_x.clear();
      for (ValueId v : f.inputs) m_x.push_back(names[v]);
      m_y.clear();
      for (ValueId v : f.outputs) m_y.push_back(names[v]);
      opSpec(f.op).onnxExport(*this, f);
    }
    m_fragment = nullptr;
    m_node = &n;
    m_x = x;
    m_y = y;
    // The tag records the composite's own tensors only (a fragment Conv shares "weight").
    json own = json::array();
    for (const auto& j : m_tensors)
      for (const auto& t : n.tensors)
        if (j.at("name") == t.name) own.push_back(j);
    m_tensors = own;
  }

  // Keeps the tag for the group just written (IR node n); writeTags writes it once the
  // file's initializers are final.
  void recordTag(const Node& n, const std::vector<std::string>& x, const std::vector<std::string>& y) {
    const int count = m_gp->node_size() - m_groupStart;
    if (count == 0) throw Error(n.name, "op " + std::string(opKindName(n.op)) + " produced no ONNX node");
    m_tags.push_back({m_groupStart, count,
                      {{"op", opKindName(n.op)}, {"name", n.name}, {"scope", n.scope}, {"attrs", attributesToJson(n.attrs)},
                       {"tensors", m_tensors}, {"inputs", x}, {"outputs", y}, {"nodes", count}}});
  }

  // Takes out of the graph every initializer that no node reads (nor is a graph output):
  // runtimes drop them anyway, and ONNX Runtime warns about each one ("Removing
  // initializer ... It is not used by any node"). They are the IR tensors that no ONNX op
  // needs, such as BatchNorm's num_batches_tracked and YOLOv5's anchors (the decode reads
  // per-pixel constants made from them); writeTags keeps them in their node's tag for the
  // round trip.
  std::map<std::string, onnx::TensorProto> takeUnreadInitializers() {
    std::set<std::string> read;
    for (const auto& n : m_gp->node()) read.insert(n.input().begin(), n.input().end());
    for (const auto& o : m_gp->output()) read.insert(o.name());
    std::map<std::string, onnx::TensorProto> unread;
    google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
    for (auto& t : *m_gp->mutable_initializer()) {
      if (read.count(t.name())) kept.Add()->Swap(&t);
      else unread[t.name()].Swap(&t);
    }
    m_gp->mutable_initializer()->Swap(&kept);
    return unread;
  }

  // Tags each group's first node with the IR node it came from. A tensor whose initializer
  // was taken out travels in the tag itself: "value" (base64 of its TensorProto) in place
  // of "init". The fingerprint covers the initializers as the file finally has them.
  void writeTags(const std::map<std::string, onnx::TensorProto>& unread) {
    for (PendingTag& p : m_tags) {
      std::vector<std::string> inits;
      for (auto& t : p.tag.at("tensors")) {
        const std::string init = t.at("init").get<std::string>();
        const auto it = unread.find(init);
        if (it == unread.end()) {
          inits.push_back(init);
          continue;
        }
        t.erase("init");
        t["value"] = base64Encode(it->second.SerializeAsString());
      }
      p.tag["fp"] = onnxGroupFingerprint(*m_gp, p.first, p.count, inits);
      m_gp->mutable_node(p.first)->set_doc_string(kOnnxTagPrefix + p.tag.dump());
    }
  }

  struct PendingTag {
    int first, count;  // the group's ONNX nodes
    json tag;          // without its fingerprint
  };

  Graph m_g;  // a shallow copy (BatchNorms folded with foldBn): shapes inferred at the export size
  OnnxExportOptions m_opt;
  const Graph* m_fragment = nullptr;  // while a composite's lowering is written
  onnx::GraphProto* m_gp = nullptr;
  // The IR node being written.
  const Node* m_node = nullptr;
  std::string m_prefix;
  int m_groupStart = 0;
  std::vector<std::string> m_x, m_y;
  json m_tensors;  // the tag's tensor records
  std::set<std::string> m_initNames;
  std::set<std::string> m_empty;  // zero-width values left out of the file
  std::vector<PendingTag> m_tags;
};

}  // namespace

namespace {
std::string serialized(const Graph& graph, const OnnxExportOptions& options, const Shape& inputChw, const std::string& subject) {
  const onnx::ModelProto model = OnnxExporter(graph, options).run(inputChw);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error(subject, "cannot serialize the ONNX model (over 2 GB?)");
  return bytes;
}
}  // namespace

std::string exportOnnxToString(const Graph& graph, const OnnxExportOptions& options, const Shape& inputChw) {
  return serialized(graph, options, inputChw, "ONNX export");
}

void exportOnnx(const Graph& graph, const std::string& path, const OnnxExportOptions& options, const Shape& inputChw) {
  const std::string bytes = serialized(graph, options, inputChw, path);
  writeFileAtomically(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace prunelab
