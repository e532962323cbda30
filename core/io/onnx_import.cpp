// The ONNX import driver: reads the file, then walks its nodes in order. PruneLab's
// tagged nodes come back exactly (io/onnx_tag.h); constant subgraphs are evaluated
// (io/onnx_constants); patterns spanning nodes are fused (below); every other node goes to
// the converter its op family registered for its ONNX op type (ops/*_ops.cpp).

#include "io/onnx_import.h"

#include <ATen/ATen.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unistd.h>

#include "io/graph_json.h"
#include "io/json_read.h"
#include "io/onnx_constants.h"
#include "ops/onnx_import_context.h"
#include "io/onnx_tag.h"
#include "io/onnx_tensor.h"
#include "ops/op_table.h"
#include "util/base64.h"
#include "util/error.h"

namespace prunelab {

using nlohmann::json;

class OnnxImporter {
 public:
  OnnxImporter(std::string path, OnnxImportOptions options, std::vector<std::string>* warnings)
      : m_path(std::move(path)), m_options(options), m_warnings(warnings) {}

  Graph run(const std::string* bytes) {
    readModel(bytes);
    const onnx::GraphProto& gp = m_model.graph();
    m_ctx.emplace(m_path, gp, m_opset);
    OnnxImportContext& ctx = *m_ctx;
    for (const auto& init : gp.initializer()) ctx.m_refs[init.name()].constant = tensorFromOnnx(init, m_path);
    for (const auto& p : m_model.metadata_props())
      if (p.key().rfind("prunelab.", 0) == 0) ctx.m_graph.metadata()[p.key().substr(9)] = p.value();
    checkSingleWriters(gp);
    addInputs(gp);
    if (m_options.useTags) checkTags(gp);
    planFusions(gp);
    const int count = gp.node_size();
    for (int i = 0; i < count; ++i) {
      const onnx::NodeProto& n = gp.node(i);
      if (m_skip.count(i)) continue;
      if (m_options.useTags && isOnnxTag(n.doc_string())) {
        i += importTagged(gp, i) - 1;
        continue;
      }
      withErrorContext(m_path, [&] { importNode(OnnxNodeView(n, i)); });
    }
    for (const auto& out : gp.output()) {
      const OnnxRef& r = ctx.ref(out.name(), "graph output");
      if (r.isConst()) throw Error(m_path, "graph output '" + out.name() + "' is a constant");
      ctx.m_graph.markOutput(r.id);
    }
    fillMetadata(gp);
    return std::move(ctx.m_graph);
  }

 private:
  // --- reading ------------------------------------------------------------------------------

  void readModel(const std::string* bytes) {
    bool ok = false;
    if (bytes) {
      google::protobuf::io::ArrayInputStream raw(bytes->data(), static_cast<int>(bytes->size()));
      google::protobuf::io::CodedInputStream coded(&raw);
      coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
      ok = m_model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
    } else {
      if (!std::filesystem::exists(m_path)) throw Error(m_path, "no such file");
      const int fd = ::open(m_path.c_str(), O_RDONLY);
      if (fd < 0) throw Error(m_path, "cannot open the file");
      {
        google::protobuf::io::FileInputStream raw(fd);
        google::protobuf::io::CodedInputStream coded(&raw);
        coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
        ok = m_model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
      }
      ::close(fd);
    }
    if (!ok || !m_model.has_graph()) throw Error(m_path, "not a valid ONNX model (protobuf parse failed)");
    for (const auto& op : m_model.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") m_opset = op.version();
    if (m_opset < 7) throw Error(m_path, "opset " + std::to_string(m_opset) + " is too old (PruneLab reads 11-17)");
    // Newer opsets change what ops mean (opset 18 moved Reduce* axes and Split's sizes to
    // inputs and gave Pad an axes input): read with opset-17 rules, they would import wrong.
    constexpr int64_t kNewestOpset = 17;
    if (m_opset > kNewestOpset)
      throw Error(m_path, "opset " + std::to_string(m_opset) + " is newer than PruneLab knows (it reads 11-" +
                              std::to_string(kNewestOpset) + "): export with opset " + std::to_string(kNewestOpset) +
                              " or older");
  }

  // Each tensor has one writer and each graph output is listed once. Protobuf allows both
  // mistakes, and the walk would let the later writer replace the earlier one silently.
  void checkSingleWriters(const onnx::GraphProto& gp) const {
    std::map<std::string, std::string> writer;  // tensor -> what writes it
    for (const auto& in : gp.input()) writer.emplace(in.name(), "the graph input '" + in.name() + "'");
    for (const auto& init : gp.initializer()) writer.emplace(init.name(), "the initializer '" + init.name() + "'");
    for (const auto& n : gp.node())
      for (const auto& out : n.output()) {
        if (out.empty()) continue;  // an optional output left out
        const auto [it, first] = writer.emplace(out, "node '" + n.name() + "'");
        if (!first)
          throw Error(m_path, "tensor '" + out + "' is written by two nodes (" + it->second + " and node '" + n.name() +
                                  "'): each tensor must have one producer");
      }
    std::set<std::string> outputs;
    for (const auto& out : gp.output())
      if (!outputs.insert(out.name()).second) throw Error(m_path, "graph output '" + out.name() + "' is listed twice");
  }

  void addInputs(const onnx::GraphProto& gp) {
    OnnxImportContext& ctx = *m_ctx;
    for (const auto& in : gp.input()) {
      if (ctx.m_refs.count(in.name())) continue;  // an initializer listed as input (old exporters)
      const auto& tt = in.type().tensor_type();
      Shape shape;
      for (int d = 0; d < tt.shape().dim_size(); ++d) {
        const auto& dim = tt.shape().dim(d);
        if (dim.has_dim_value() && dim.dim_value() > 0) {
          shape.push_back(dim.dim_value());
        } else if (d == 0) {
          shape.push_back(1);  // dynamic batch
          ctx.m_dynamicBatch = true;
        } else {
          throw Error(m_path, "input '" + in.name() + "' has a dynamic dim " + std::to_string(d) +
                                  " (" + dim.dim_param() + "); export with a fixed input size");
        }
      }
      if (shape.empty()) throw Error(m_path, "input '" + in.name() + "' has no shape");
      if (ctx.m_batch < 0) ctx.m_batch = ctx.m_dynamicBatch ? -1 : shape[0];
      ctx.m_refs[in.name()].id = ctx.m_graph.addInput(in.name(), shape);
    }
    if (ctx.m_graph.inputs().empty()) throw Error(m_path, "the model has no input");
  }

  // --- fusions ------------------------------------------------------------------------------

  // Patterns spanning nodes, found before the walk: Sigmoid+Mul (SiLU), HardSigmoid+Mul
  // (Hardswish), Pad+AveragePool. The first node of a pattern is skipped and the second
  // imported as the fused op (the Pad by the AveragePool's converter, which validates it).
  void planFusions(const onnx::GraphProto& gp) {
    auto& users = m_ctx->m_users;
    for (int i = 0; i < gp.node_size(); ++i)
      for (const auto& in : gp.node(i).input()) users[in].push_back(i);
    for (const auto& out : gp.output()) users[out.name()].push_back(-1);
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& proto = gp.node(i);
      if (m_options.useTags && isOnnxTag(proto.doc_string())) continue;
      if (proto.output_size() != 1 || proto.input_size() == 0) continue;
      const OnnxNodeView n(proto, i);
      const auto& readers = users[n.output(0)];
      if (readers.size() != 1 || readers[0] < 0) continue;
      const onnx::NodeProto& m = gp.node(readers[0]);
      const std::string& x = n.input(0);
      const bool mulOfInput = m.op_type() == "Mul" && m.input_size() == 2 &&
                              ((m.input(0) == x && m.input(1) == n.output(0)) || (m.input(1) == x && m.input(0) == n.output(0)));
      if (n.opType() == "Sigmoid" && mulOfInput) {
        m_skip.insert(i);
        m_fused[readers[0]] = {OpKind::SiLU, x};
      } else if (n.opType() == "HardSigmoid" && mulOfInput && std::abs(n.attrFloat("alpha", 0.2) - 1.0 / 6) < 1e-6 &&
                 std::abs(n.attrFloat("beta", 0.5) - 0.5) < 1e-6) {
        m_skip.insert(i);
        m_fused[readers[0]] = {OpKind::Hardswish, x};
      } else if (n.opType() == "Pad" && m.op_type() == "AveragePool") {
        m_ctx->m_padBefore[readers[0]] = i;
        m_skip.insert(i);
      }
    }
  }

  // --- PruneLab's own tagged nodes ----------------------------------------------------------

  // Tags are used only when every tagged group still fingerprints as exported; one edited
  // group (or a tag without a fingerprint, from before they existed) and the whole file is
  // imported as plain ONNX, with a warning: a graph half rebuilt from stale tags could
  // wire a tag's outputs to nodes that no longer exist.
  void checkTags(const onnx::GraphProto& gp) {
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& n = gp.node(i);
      if (!isOnnxTag(n.doc_string())) continue;
      std::string problem;
      try {
        const json tag = json::parse(n.doc_string().substr(std::string(kOnnxTagPrefix).size()));
        std::vector<std::string> inits;
        for (const auto& t : tag.at("tensors"))
          if (t.contains("init")) inits.push_back(t.at("init").get<std::string>());
        const int span = jsonIntOr<int>(tag, "nodes", 1);
        if (!tag.contains("fp")) problem = "its PruneLab tag has no fingerprint (an older export)";
        else if (span < 1 || i + span > gp.node_size() ||
                 tag.at("fp").get<std::string>() != onnxGroupFingerprint(gp, i, span, inits))
          problem = "it was changed after PruneLab exported it (its tag no longer matches)";
      } catch (const json::exception&) {
        problem = "its PruneLab tag is malformed";
      }
      if (problem.empty()) continue;
      m_options.useTags = false;
      if (m_warnings)
        m_warnings->push_back(m_path + ": node '" + n.name() + "': " + problem +
                              "; PruneLab's tags are ignored and the file is imported as plain ONNX");
      return;
    }
  }

  // One tensor of a tag: its initializer ("init"), or, for a tensor no ONNX node reads, the
  // TensorProto carried in the tag itself ("value", base64; see io/onnx_tag.h).
  at::Tensor tagTensor(const json& t, const std::string& where) {
    if (!t.contains("init")) {
      const std::string what = where + ": tensor " + t.at("name").get<std::string>() + " in its PruneLab tag";
      onnx::TensorProto proto;
      if (!proto.ParseFromString(base64Decode(t.at("value").get<std::string>(), m_path, what)))
        throw Error(m_path, what + " is damaged (not a TensorProto)");
      return tensorFromOnnx(proto, m_path);
    }
    const std::string init = t.at("init").get<std::string>();
    const OnnxRef& r = m_ctx->ref(init, where);
    if (!r.isConst()) throw Error(m_path, where + ": tensor " + init + " is not an initializer");
    return r.constant;
  }

  // Imports the IR node tagged on node `first`; returns how many ONNX nodes it spans.
  int importTagged(const onnx::GraphProto& gp, int first) {
    OnnxImportContext& ctx = *m_ctx;
    const std::string where = "node '" + gp.node(first).name() + "'";
    json tag;
    try {
      tag = json::parse(gp.node(first).doc_string().substr(std::string(kOnnxTagPrefix).size()));
      std::vector<ValueId> inputs;
      for (const auto& in : tag.at("inputs")) inputs.push_back(ctx.valueOf(in.get<std::string>(), where));
      std::vector<NamedTensor> tensors;
      for (const auto& t : tag.at("tensors")) {
        const at::Tensor stored = tagTensor(t, where);
        const at::Tensor value = t.value("transpose", false) ? stored.t() : stored;  // a Linear's W^T
        tensors.push_back({t.at("name").get<std::string>(), value.contiguous().clone(), t.at("buffer").get<bool>()});
      }
      const auto outs = tag.at("outputs").get<std::vector<std::string>>();
      const NodeId id = ctx.addNode(opKindFromName(tag.at("op").get<std::string>()), tag.at("name").get<std::string>(), inputs,
                                    attributesFromJson(tag.at("attrs")), std::move(tensors), static_cast<int>(outs.size()),
                                    tag.at("scope").get<std::string>());
      for (size_t i = 0; i < outs.size(); ++i) ctx.m_refs[outs[i]] = OnnxRef{ctx.m_graph.node(id).outputs[i], {}};
      const int span = jsonIntOr<int>(tag, "nodes", 1);
      if (span < 1 || first + span > gp.node_size()) throw Error(m_path, where + ": bad node count in its tag");
      return span;
    } catch (const json::exception& e) {
      throw Error(m_path, where + ": malformed PruneLab tag: " + e.what());
    }
  }

  // --- one node -------------------------------------------------------------------------------

  void importNode(const OnnxNodeView& n) {
    OnnxImportContext& ctx = *m_ctx;
    const std::string& domain = n.proto().domain();
    if (!domain.empty() && domain != "ai.onnx") ctx.unsupported(n, "domain " + domain);
    if (importConstantSource(ctx, n)) return;
    if (ctx.allInputsConst(n) && foldConstantNode(ctx, n)) return;
    if (auto it = m_fused.find(n.index()); it != m_fused.end()) {
      const std::string scope = ctx.scopeFor(n);
      const ValueId x = ctx.valueOf(it->second.input, n.name());
      return ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(it->second.op, scope, {x}, {}, {}, 1, scope)));
    }
    const OnnxImportFn convert = onnxImporter(n.opType());
    if (!convert) ctx.unsupported(n);
    convert(ctx, n);
  }

  void fillMetadata(const onnx::GraphProto& gp) {
    OnnxImportContext& ctx = *m_ctx;
    for (const auto& name : ctx.m_unusedOutputs)
      for (const auto& node : gp.node())
        for (const auto& in : node.input())
          if (in == name)
            throw Error(m_path, "node '" + node.name() + "' reads '" + name +
                                    "', a training-mode BatchNormalization statistic; export with training=PRESERVE");
    Graph& g = ctx.m_graph;
    auto& md = g.metadata();
    if (!md.count("model")) md["model"] = std::filesystem::path(m_path).stem().string();
    const Shape& in = g.value(g.inputs().at(0)).shape;
    if (!md.count("input") && in.size() == 4) md["input"] = shapeToString(Shape(in.begin() + 1, in.end()));
    if (!md.count("task") && g.outputs().size() == 1) {
      const Shape& out = g.value(g.outputs()[0]).shape;
      if (out.size() == 2) {
        md["task"] = "classify";
        md["num_classes"] = std::to_string(out[1]);
      }
    }
  }

  struct Fused {
    OpKind op;
    std::string input;
  };

  std::string m_path;
  OnnxImportOptions m_options;
  std::vector<std::string>* m_warnings = nullptr;
  onnx::ModelProto m_model;
  int64_t m_opset = 0;
  std::optional<OnnxImportContext> m_ctx;
  std::set<int> m_skip;
  std::map<int, Fused> m_fused;
};

// withErrorContext: every error names the file, also those raised about one node or tag
// (an unknown op kind in a tag said only the op before).
Graph importOnnx(const std::string& path, const OnnxImportOptions& options, std::vector<std::string>* warnings) {
  return withErrorContext(path, [&] { return OnnxImporter(path, options, warnings).run(nullptr); });
}

Graph importOnnxFromString(const std::string& bytes, const OnnxImportOptions& options, const std::string& name,
                           std::vector<std::string>* warnings) {
  return withErrorContext(name, [&] { return OnnxImporter(name, options, warnings).run(&bytes); });
}

bool isOnnxPath(const std::string& path) {
  if (path.size() < 5) return false;
  std::string ext = path.substr(path.size() - 5);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".onnx";
}

}  // namespace prunelab
