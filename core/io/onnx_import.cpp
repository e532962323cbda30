#include "io/onnx_import.h"

#include <ATen/ATen.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unistd.h>

#include "io/graph_json.h"
#include "io/onnx_tensor.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {

using nlohmann::json;
constexpr const char* kTagPrefix = "prunelab:";

// --- ONNX attribute access ---------------------------------------------------------------

const onnx::AttributeProto* findAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attrInt(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = findAttr(n, name);
  return a ? a->i() : fallback;
}
double attrFloat(const onnx::NodeProto& n, const std::string& name, double fallback) {
  const auto* a = findAttr(n, name);
  return a ? a->f() : fallback;
}
std::string attrString(const onnx::NodeProto& n, const std::string& name, const std::string& fallback) {
  const auto* a = findAttr(n, name);
  return a ? a->s() : fallback;
}
std::optional<std::vector<int64_t>> attrInts(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = findAttr(n, name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<int64_t> toInts(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous().view(-1);
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// "/layer1/layer1.0/relu/Relu" -> "layer1.0.relu"; "/yolo/model.24/m.0/Conv" -> "yolo.model.24.m.0".
// PyTorch writes one component per module; a component is either relative to its parent
// ("relu") or already the full path from an enclosing Sequential ("layer1.0").
std::string scopeFromNodeName(const std::string& nodeName) {
  std::vector<std::string> comps;
  size_t pos = 0;
  while (pos <= nodeName.size()) {
    const size_t next = nodeName.find('/', pos);
    const std::string c = nodeName.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!c.empty()) comps.push_back(c);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  if (comps.size() <= 1 || nodeName.empty() || nodeName[0] != '/') return {};
  std::string path;
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    const std::string& c = comps[i];
    if (!path.empty() && c.rfind(path + ".", 0) == 0) path = c;
    else path = path.empty() ? c : path + "." + c;
  }
  return path;
}

// A readable IR name from any ONNX name: no '/' or ':' (they read as paths and ports).
std::string sanitize(std::string s) {
  for (char& c : s)
    if (c == '/' || c == ':') c = '_';
  while (!s.empty() && s.front() == '_') s.erase(s.begin());
  return s.empty() ? std::string("const") : s;
}

// The shape after ONNX Unsqueeze (1s inserted at `axes` of the result) or Squeeze (the
// size-1 `axes` dropped; none given: every size-1 dim from `first` on). `axes` comes back
// normalised (non-negative).
Shape squeezedShape(Shape s, std::vector<int64_t>& axes, bool unsqueeze, size_t first = 0) {
  const int64_t rank = static_cast<int64_t>(unsqueeze ? s.size() + axes.size() : s.size());
  for (auto& a : axes) a = a < 0 ? a + rank : a;
  if (unsqueeze) {
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) s.insert(s.begin() + a, 1);
  } else if (axes.empty()) {
    s.erase(std::remove(s.begin() + static_cast<std::ptrdiff_t>(std::min(first, s.size())), s.end(), 1), s.end());
  } else {
    std::sort(axes.rbegin(), axes.rend());
    for (int64_t a : axes) s.erase(s.begin() + a);
  }
  return s;
}

struct Ref {
  ValueId id = -1;    // a graph value, or
  at::Tensor constant;  // a value known at import (initializer, folded subgraph)
  bool isConst() const { return constant.defined(); }
};

class OnnxImporter {
 public:
  OnnxImporter(std::string path, OnnxImportOptions options) : m_path(std::move(path)), m_options(options) {}

  Graph run() {
    readModel();
    const onnx::GraphProto& gp = m_model.graph();
    for (const auto& init : gp.initializer()) m_refs[init.name()].constant = tensorFromOnnx(init, m_path);
    for (const auto& p : m_model.metadata_props())
      if (p.key().rfind("prunelab.", 0) == 0) m_graph.metadata()[p.key().substr(9)] = p.value();
    addInputs(gp);
    planFusions(gp);
    const int count = gp.node_size();
    for (int i = 0; i < count; ++i) {
      const onnx::NodeProto& n = gp.node(i);
      if (m_skip.count(i)) continue;
      if (m_options.useTags && n.doc_string().rfind(kTagPrefix, 0) == 0) {
        i += importTagged(gp, i) - 1;
        continue;
      }
      withErrorContext(m_path, [&] { importNode(n, i); });
    }
    for (const auto& out : gp.output()) {
      const Ref& r = ref(out.name(), "graph output");
      if (r.isConst()) throw Error(m_path, "graph output '" + out.name() + "' is a constant");
      m_graph.markOutput(r.id);
    }
    fillMetadata(gp);
    return std::move(m_graph);
  }

 private:
  // --- reading ------------------------------------------------------------------------------

  void readModel() {
    if (!std::filesystem::exists(m_path)) throw Error(m_path, "no such file");
    const int fd = ::open(m_path.c_str(), O_RDONLY);
    if (fd < 0) throw Error(m_path, "cannot open the file");
    bool ok = false;
    {
      google::protobuf::io::FileInputStream raw(fd);
      google::protobuf::io::CodedInputStream coded(&raw);
      coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
      ok = m_model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
    }
    ::close(fd);
    if (!ok || !m_model.has_graph()) throw Error(m_path, "not a valid ONNX model (protobuf parse failed)");
    for (const auto& op : m_model.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") m_opset = op.version();
    if (m_opset < 7) throw Error(m_path, "opset " + std::to_string(m_opset) + " is too old (PruneLab reads 11-17)");
  }

  void addInputs(const onnx::GraphProto& gp) {
    for (const auto& in : gp.input()) {
      if (m_refs.count(in.name())) continue;  // an initializer listed as input (old exporters)
      const auto& tt = in.type().tensor_type();
      Shape shape;
      for (int d = 0; d < tt.shape().dim_size(); ++d) {
        const auto& dim = tt.shape().dim(d);
        if (dim.has_dim_value() && dim.dim_value() > 0) {
          shape.push_back(dim.dim_value());
        } else if (d == 0) {
          shape.push_back(1);  // dynamic batch
          m_dynamicBatch = true;
        } else {
          throw Error(m_path, "input '" + in.name() + "' has a dynamic dim " + std::to_string(d) +
                                  " (" + dim.dim_param() + "); export with a fixed input size");
        }
      }
      if (shape.empty()) throw Error(m_path, "input '" + in.name() + "' has no shape");
      if (m_batch < 0) m_batch = m_dynamicBatch ? -1 : shape[0];
      m_refs[in.name()].id = m_graph.addInput(in.name(), shape);
    }
    if (m_graph.inputs().empty()) throw Error(m_path, "the model has no input");
  }

  // Patterns spanning nodes, found before the walk: Sigmoid+Mul (SiLU), HardSigmoid+Mul
  // (Hardswish), Pad+AveragePool. The first node of a pattern is skipped and the second
  // imported as the fused op.
  void planFusions(const onnx::GraphProto& gp) {
    for (int i = 0; i < gp.node_size(); ++i)
      for (const auto& in : gp.node(i).input()) m_users[in].push_back(i);
    for (const auto& out : gp.output()) m_users[out.name()].push_back(-1);
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& n = gp.node(i);
      if (m_options.useTags && n.doc_string().rfind(kTagPrefix, 0) == 0) continue;
      if (n.output_size() != 1 || n.input_size() == 0) continue;
      const auto& users = m_users[n.output(0)];
      if (users.size() != 1 || users[0] < 0) continue;
      const onnx::NodeProto& m = gp.node(users[0]);
      const std::string& x = n.input(0);
      const bool mulOfInput = m.op_type() == "Mul" && m.input_size() == 2 &&
                              ((m.input(0) == x && m.input(1) == n.output(0)) || (m.input(1) == x && m.input(0) == n.output(0)));
      if (n.op_type() == "Sigmoid" && mulOfInput) {
        m_skip.insert(i);
        m_fused[users[0]] = {OpKind::SiLU, x};
      } else if (n.op_type() == "HardSigmoid" && mulOfInput && std::abs(attrFloat(n, "alpha", 0.2) - 1.0 / 6) < 1e-6 &&
                 std::abs(attrFloat(n, "beta", 0.5) - 0.5) < 1e-6) {
        m_skip.insert(i);
        m_fused[users[0]] = {OpKind::Hardswish, x};
      } else if (n.op_type() == "Pad" && m.op_type() == "AveragePool") {
        m_padBefore[users[0]] = i;  // validated when the pool is imported
        m_skip.insert(i);
      }
    }
  }

  // --- values -------------------------------------------------------------------------------

  Ref& ref(const std::string& name, const std::string& what) {
    auto it = m_refs.find(name);
    if (it == m_refs.end()) throw Error(m_path, what + " uses '" + name + "', which no node produces");
    return it->second;
  }

  // The graph value for `name`; a constant becomes a Constant node (once).
  ValueId valueOf(const std::string& name, const std::string& user) {
    Ref& r = ref(name, "node '" + user + "'");
    if (r.id >= 0) return r.id;
    at::Tensor t = r.constant;
    if (t.dim() == 0) t = t.reshape({1});  // a [1] broadcasts like a scalar and has a shape
    if (at::isIntegralType(t.scalar_type(), true)) t = t.to(at::kFloat);
    std::string nm = sanitize(name);
    static const std::string tail = "_output_0";  // PyTorch's value suffix says nothing here
    if (nm.size() > tail.size() && nm.compare(nm.size() - tail.size(), tail.size(), tail) == 0) nm.resize(nm.size() - tail.size());
    r.id = m_graph.out(addNode(OpKind::Constant, nm, {}, {}, {{"value", t.contiguous(), true}}, 1, nm));
    return r.id;
  }

  NodeId addNode(OpKind op, const std::string& name, const std::vector<ValueId>& inputs, Attributes attrs = {},
                 std::vector<NamedTensor> tensors = {}, int outputs = 1, const std::string& scope = {}) {
    const NodeId id = m_graph.addNode(op, name, inputs, std::move(attrs), std::move(tensors), outputs, scope);
    Node& n = m_graph.node(id);
    std::vector<Shape> in;
    for (ValueId v : n.inputs) in.push_back(m_graph.value(v).shape);
    const auto out = withErrorContext(m_path, [&] { return opSpec(op).inferShapes(n, in); });
    for (size_t i = 0; i < out.size() && i < n.outputs.size(); ++i) m_graph.value(n.outputs[i]).shape = out[i];
    return id;
  }

  // --- PruneLab's own tagged nodes ----------------------------------------------------------

  // Imports the IR node tagged on node `first`; returns how many ONNX nodes it spans.
  int importTagged(const onnx::GraphProto& gp, int first) {
    const std::string where = "node '" + gp.node(first).name() + "'";
    json tag;
    try {
      tag = json::parse(gp.node(first).doc_string().substr(std::string(kTagPrefix).size()));
      std::vector<ValueId> inputs;
      for (const auto& in : tag.at("inputs")) inputs.push_back(valueOf(in.get<std::string>(), where));
      std::vector<NamedTensor> tensors;
      for (const auto& t : tag.at("tensors")) {
        const Ref& r = ref(t.at("init").get<std::string>(), where);
        if (!r.isConst()) throw Error(m_path, where + ": tensor " + t.at("init").get<std::string>() + " is not an initializer");
        const at::Tensor value = t.value("transpose", false) ? r.constant.t() : r.constant;  // a Linear's W^T
        tensors.push_back({t.at("name").get<std::string>(), value.contiguous().clone(), t.at("buffer").get<bool>()});
      }
      const auto outs = tag.at("outputs").get<std::vector<std::string>>();
      const NodeId id = addNode(opKindFromName(tag.at("op").get<std::string>()), tag.at("name").get<std::string>(), inputs,
                                attributesFromJson(tag.at("attrs")), std::move(tensors), static_cast<int>(outs.size()),
                                tag.at("scope").get<std::string>());
      for (size_t i = 0; i < outs.size(); ++i) m_refs[outs[i]] = Ref{m_graph.node(id).outputs[i], {}};
      const int span = tag.value("nodes", 1);
      if (span < 1 || first + span > gp.node_size()) throw Error(m_path, where + ": bad node count in its tag");
      return span;
    } catch (const json::exception& e) {
      throw Error(m_path, where + ": malformed PruneLab tag: " + e.what());
    }
  }

  // --- generic mapping ----------------------------------------------------------------------

  struct Fused {
    OpKind op;
    std::string input;
  };

  std::string scopeFor(const onnx::NodeProto& n, const std::string& weightName = {}) const {
    static const std::string suffix = ".weight";
    if (weightName.size() > suffix.size() && weightName.rfind("onnx::", 0) != 0 &&
        weightName.compare(weightName.size() - suffix.size(), suffix.size(), suffix) == 0)
      return weightName.substr(0, weightName.size() - suffix.size());
    std::string s = scopeFromNodeName(n.name());
    if (!s.empty()) return s;
    if (!n.name().empty()) return sanitize(n.name());
    std::string op = n.op_type();
    std::transform(op.begin(), op.end(), op.begin(), [](unsigned char c) { return std::tolower(c); });
    return op;
  }

  bool allConst(const onnx::NodeProto& n) const {
    for (const auto& in : n.input()) {
      if (in.empty()) continue;
      auto it = m_refs.find(in);
      if (it == m_refs.end() || !it->second.isConst()) return false;
    }
    return true;
  }
  bool hasInput(const onnx::NodeProto& n, int i) const { return n.input_size() > i && !n.input(i).empty(); }
  const at::Tensor& constInput(const onnx::NodeProto& n, int i) {
    const Ref& r = ref(n.input(i), "node '" + n.name() + "'");
    if (!r.isConst())
      throw Error(m_path, "node '" + n.name() + "' (" + n.op_type() + "): input " + std::to_string(i) + " ('" + n.input(i) +
                              "') must be a constant");
    return r.constant;
  }
  const Shape& shapeOf(const std::string& name, const onnx::NodeProto& user) {
    return m_graph.value(valueOf(name, user.name())).shape;
  }
  void setConst(const onnx::NodeProto& n, int output, at::Tensor t) { m_refs[n.output(output)] = Ref{-1, std::move(t)}; }
  void setValue(const onnx::NodeProto& n, int output, ValueId v) { m_refs[n.output(output)] = Ref{v, {}}; }
  [[noreturn]] void unsupported(const onnx::NodeProto& n, const std::string& why = {}) const {
    throw Error(m_path, "unsupported op '" + n.op_type() + "' at node '" + n.name() + "'" + (why.empty() ? "" : ": " + why));
  }

  // Adds a one-output IR node for `n` consuming its first `inputs` ONNX inputs.
  void simple(const onnx::NodeProto& n, OpKind op, Attributes attrs = {}, int inputs = 1) {
    std::vector<ValueId> in;
    for (int i = 0; i < inputs; ++i) in.push_back(valueOf(n.input(i), n.name()));
    const std::string scope = scopeFor(n);
    setValue(n, 0, m_graph.out(addNode(op, scope, in, std::move(attrs), {}, 1, scope)));
  }

  // Axes of Unsqueeze/Squeeze/ReduceMean: an attribute before opset 13 (18 for reduce), an input after.
  std::vector<int64_t> axesOf(const onnx::NodeProto& n) {
    if (auto a = attrInts(n, "axes")) return *a;
    if (hasInput(n, 1)) return toInts(constInput(n, 1));
    return {};
  }

  // Evaluates a node whose inputs are all constants; false when the op has no folding rule.
  bool fold(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto c = [&](int i) -> at::Tensor { return constInput(n, i); };
    if (op == "Identity" || op == "Dropout") return setConst(n, 0, c(0)), true;
    if (op == "Cast") {
      const int64_t to = attrInt(n, "to", 1);
      at::ScalarType t = to == onnx::TensorProto::INT64 ? at::kLong
                         : to == onnx::TensorProto::INT32 ? at::kInt
                         : to == onnx::TensorProto::DOUBLE ? at::kDouble
                         : to == onnx::TensorProto::BOOL ? at::kBool : at::kFloat;
      return setConst(n, 0, c(0).to(t)), true;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
      auto axes = axesOf(n);
      return setConst(n, 0, c(0).reshape(squeezedShape(c(0).sizes().vec(), axes, op == "Unsqueeze"))), true;
    }
    if (op == "Gather") {
      const at::Tensor data = c(0), idx = c(1).to(at::kLong);
      int64_t axis = attrInt(n, "axis", 0);
      if (axis < 0) axis += data.dim();
      const at::Tensor fixed = at::where(idx < 0, idx + data.size(axis), idx);
      return setConst(n, 0, data.index_select(axis, fixed.reshape(-1)).reshape(
                                 [&] {
                                   std::vector<int64_t> s(data.sizes().begin(), data.sizes().begin() + axis);
                                   for (int64_t d : idx.sizes()) s.push_back(d);
                                   s.insert(s.end(), data.sizes().begin() + axis + 1, data.sizes().end());
                                   return s;
                                 }())),
             true;
    }
    if (op == "Concat") {
      std::vector<at::Tensor> parts;
      for (int i = 0; i < n.input_size(); ++i) parts.push_back(c(i));
      return setConst(n, 0, at::cat(parts, attrInt(n, "axis", 0))), true;
    }
    if (op == "Range") return setConst(n, 0, at::arange(c(0).item(), c(1).item(), c(2).item(), c(0).options())), true;
    if (op == "Expand") return setConst(n, 0, c(0) * at::ones(toInts(c(1)), c(0).options())), true;
    if (op == "ConstantOfShape") {
      const auto* v = findAttr(n, "value");
      const at::Tensor fill = v ? tensorFromOnnx(v->t(), m_path) : at::zeros({1});
      return setConst(n, 0, fill.reshape({}).expand(toInts(c(0))).clone()), true;
    }
    if (op == "Reshape") {
      auto shape = toInts(c(1));
      for (size_t i = 0; i < shape.size(); ++i)
        if (shape[i] == 0) shape[i] = c(0).size(static_cast<int64_t>(i));
      return setConst(n, 0, c(0).reshape(shape)), true;
    }
    if (op == "Transpose") {
      auto perm = attrInts(n, "perm");
      return setConst(n, 0, perm ? c(0).permute(*perm).contiguous() : c(0).t().contiguous()), true;
    }
    if (op == "Add") return setConst(n, 0, c(0) + c(1)), true;
    if (op == "Sub") return setConst(n, 0, c(0) - c(1)), true;
    if (op == "Mul") return setConst(n, 0, c(0) * c(1)), true;
    if (op == "Div") {
      const bool integral = at::isIntegralType(c(0).scalar_type(), true);
      return setConst(n, 0, integral ? at::div(c(0), c(1), "floor") : c(0) / c(1)), true;
    }
    if (op == "Pow") return setConst(n, 0, at::pow(c(0), c(1))), true;
    if (op == "Sqrt") return setConst(n, 0, c(0).sqrt()), true;
    if (op == "Neg") return setConst(n, 0, -c(0)), true;
    if (op == "Floor") return setConst(n, 0, c(0).floor()), true;
    if (op == "Equal") return setConst(n, 0, at::eq(c(0), c(1))), true;
    if (op == "Where") return setConst(n, 0, at::where(c(0).to(at::kBool), c(1), c(2))), true;
    if (op == "Sigmoid") return setConst(n, 0, c(0).sigmoid()), true;
    if (op == "Slice") {
      at::Tensor t = c(0);
      const auto starts = toInts(c(1)), ends = toInts(c(2));
      std::vector<int64_t> axes = hasInput(n, 3) ? toInts(c(3)) : std::vector<int64_t>();
      if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
      const auto steps = hasInput(n, 4) ? toInts(c(4)) : std::vector<int64_t>(starts.size(), 1);
      Node tmp;
      tmp.name = n.name();
      tmp.attrs = {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}};
      return setConst(n, 0, opSpec(OpKind::Slice).forward(tmp, {t}, {})[0].contiguous()), true;
    }
    return false;
  }

  void importNode(const onnx::NodeProto& n, int index) {
    const std::string& op = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx") unsupported(n, "domain " + n.domain());
    if (op == "Constant") {
      const auto* v = findAttr(n, "value");
      if (v) return setConst(n, 0, tensorFromOnnx(v->t(), m_path));
      if (const auto* f = findAttr(n, "value_float")) return setConst(n, 0, at::scalar_tensor(f->f()));
      if (const auto* i = findAttr(n, "value_int")) return setConst(n, 0, at::scalar_tensor(i->i(), at::kLong));
      if (auto ints = attrInts(n, "value_ints")) return setConst(n, 0, at::tensor(*ints, at::kLong));
      if (const auto* fs = findAttr(n, "value_floats"))
        return setConst(n, 0, at::tensor(std::vector<float>(fs->floats().begin(), fs->floats().end())));
      unsupported(n, "Constant without a tensor value");
    }
    if (op == "Shape") {
      Shape s = shapeOf(n.input(0), n);
      int64_t start = attrInt(n, "start", 0), end = attrInt(n, "end", static_cast<int64_t>(s.size()));
      const int64_t rank = static_cast<int64_t>(s.size());
      start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
      end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
      return setConst(n, 0, at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + std::max(start, end)), at::kLong));
    }
    if (allConst(n) && fold(n)) return;
    if (auto it = m_fused.find(index); it != m_fused.end()) {
      const std::string scope = scopeFor(n);
      return setValue(n, 0, m_graph.out(addNode(it->second.op, scope, {valueOf(it->second.input, n.name())}, {}, {}, 1, scope)));
    }
    if (op == "Conv") return importConv(n);
    if (op == "BatchNormalization") return importBatchNorm(n);
    if (op == "Relu") return simple(n, OpKind::ReLU);
    if (op == "Sigmoid") return simple(n, OpKind::Sigmoid);
    if (op == "HardSwish") return simple(n, OpKind::Hardswish);
    if (op == "LeakyRelu") return simple(n, OpKind::LeakyReLU, {{"negative_slope", attrFloat(n, "alpha", 0.01)}});
    if (op == "Clip") return importClip(n);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") return importBinary(n);
    if (op == "Concat") {
      std::vector<ValueId> in;
      for (const auto& i : n.input()) in.push_back(valueOf(i, n.name()));
      const std::string scope = scopeFor(n);
      return setValue(n, 0, m_graph.out(addNode(OpKind::Concat, scope, in, {{"axis", attrInt(n, "axis", 1)}}, {}, 1, scope)));
    }
    if (op == "Split") return importSplit(n);
    if (op == "MaxPool" || op == "AveragePool") return importPool(n, index);
    if (op == "GlobalAveragePool") return simple(n, OpKind::GlobalAvgPool);
    if (op == "ReduceMean") {
      auto axes = axesOf(n);
      const Shape& s = shapeOf(n.input(0), n);
      for (auto& a : axes) a = a < 0 ? a + static_cast<int64_t>(s.size()) : a;
      std::sort(axes.begin(), axes.end());
      if (s.size() == 4 && axes == std::vector<int64_t>{2, 3} && attrInt(n, "keepdims", 1) == 1)
        return simple(n, OpKind::GlobalAvgPool);
      unsupported(n, "only the mean over H and W with keepdims (global average pooling)");
    }
    if (op == "Resize" || op == "Upsample") return importResize(n);
    if (op == "Flatten") return simple(n, OpKind::Flatten, {{"start_dim", attrInt(n, "axis", 1)}});
    if (op == "Gemm") return importGemm(n);
    if (op == "MatMul") return importMatMul(n);
    if (op == "Reshape") return importReshape(n);
    if (op == "Transpose") {
      const auto perm = attrInts(n, "perm");
      if (!perm) unsupported(n, "Transpose without perm");
      return simple(n, OpKind::Transpose, {{"perm", *perm}});
    }
    if (op == "Softmax") return simple(n, OpKind::Softmax, {{"axis", attrInt(n, "axis", m_opset >= 13 ? -1 : 1)}});
    if (op == "Slice") return importSlice(n);
    if (op == "Identity" || op == "Dropout" || op == "Cast") return setValue(n, 0, valueOf(n.input(0), n.name()));
    if (op == "Unsqueeze" || op == "Squeeze") return importSqueeze(n);
    unsupported(n);
  }

  void importConv(const onnx::NodeProto& n) {
    const at::Tensor& w = constInput(n, 1);
    if (w.dim() != 4) unsupported(n, "only 2-D convolutions");
    const std::string autoPad = attrString(n, "auto_pad", "NOTSET");
    std::vector<int64_t> pads = attrInts(n, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
    const auto strides = attrInts(n, "strides").value_or(std::vector<int64_t>{1, 1});
    const auto dilations = attrInts(n, "dilations").value_or(std::vector<int64_t>{1, 1});
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // Symmetric only when the total padding is even (odd kernels, stride 1).
      for (int d = 0; d < 2; ++d) {
        const int64_t total = dilations[d] * (w.size(2 + d) - 1);
        if (strides[d] != 1 || total % 2) unsupported(n, "auto_pad SAME with asymmetric padding");
        pads[d] = pads[d + 2] = total / 2;
      }
    } else if (autoPad != "NOTSET" && autoPad != "VALID") {
      unsupported(n, "auto_pad " + autoPad);
    }
    if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) unsupported(n, "asymmetric padding");
    std::vector<NamedTensor> t = {{"weight", w.clone(), false}};
    if (hasInput(n, 2)) t.push_back({"bias", constInput(n, 2).clone(), false});
    Attributes a{{"stride", strides}, {"padding", std::vector<int64_t>{pads[0], pads[1]}}, {"dilation", dilations},
                 {"groups", attrInt(n, "group", 1)}};
    const std::string scope = scopeFor(n, n.input(1));
    setValue(n, 0, m_graph.out(addNode(OpKind::Conv, scope, {valueOf(n.input(0), n.name())}, std::move(a), std::move(t), 1, scope)));
  }

  void importBatchNorm(const onnx::NodeProto& n) {
    // Extra outputs (training form: running mean/var, saved mean/var) must be unused.
    for (int i = 1; i < n.output_size(); ++i)
      if (!n.output(i).empty()) m_unusedOutputs.insert(n.output(i));
    // ONNX momentum weighs the old running value (0.9); PyTorch's weighs the new one (0.1).
    const double momentum = 1.0 - attrFloat(n, "momentum", 0.9);
    std::vector<NamedTensor> t = {{"weight", constInput(n, 1).clone(), false},
                                  {"bias", constInput(n, 2).clone(), false},
                                  {"running_mean", constInput(n, 3).clone(), true},
                                  {"running_var", constInput(n, 4).clone(), true},
                                  {"num_batches_tracked", at::zeros({}, at::kLong), true}};
    const std::string scope = scopeFor(n, n.input(1));
    setValue(n, 0, m_graph.out(addNode(OpKind::BatchNorm, scope, {valueOf(n.input(0), n.name())},
                                       {{"eps", attrFloat(n, "epsilon", 1e-5)}, {"momentum", momentum}}, std::move(t), 1, scope)));
  }

  void importClip(const onnx::NodeProto& n) {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (m_opset < 11) {
      lo = attrFloat(n, "min", lo);
      hi = attrFloat(n, "max", hi);
    } else {
      if (hasInput(n, 1)) lo = constInput(n, 1).item<double>();
      if (hasInput(n, 2)) hi = constInput(n, 2).item<double>();
    }
    if (lo == 0 && hi == 6) return simple(n, OpKind::ReLU6);
    if (lo == 0 && std::isinf(hi)) return simple(n, OpKind::ReLU);
    unsupported(n, "Clip is read as ReLU6 (0, 6) or ReLU (0, inf) only");
  }

  void importBinary(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    // MatMul by a weight followed by Add of a bias: the bias joins the Linear.
    if (op == "Add") {
      for (int k = 0; k < 2; ++k) {
        const Ref& a = ref(n.input(k), n.name());
        const Ref& b = ref(n.input(1 - k), n.name());
        if (a.isConst() || !b.isConst() || b.constant.dim() != 1) continue;
        const Value& v = m_graph.value(a.id);
        if (v.producer < 0 || v.consumers.size() != 0) continue;  // consumers: IR nodes so far
        Node& lin = m_graph.node(v.producer);
        if (lin.op != OpKind::Linear || lin.hasTensor("bias") || lin.tensor("weight").size(0) != b.constant.size(0) ||
            m_users[n.input(k)].size() != 1)  // the product is read by this Add alone
          continue;
        lin.tensors.push_back({"bias", b.constant.to(at::kFloat).clone(), false});
        return setValue(n, 0, a.id);
      }
    }
    const OpKind kind = op == "Add" ? OpKind::Add : op == "Sub" ? OpKind::Sub : op == "Mul" ? OpKind::Mul
                      : op == "Div" ? OpKind::Div : OpKind::Pow;
    simple(n, kind, {}, 2);
  }

  void importSplit(const onnx::NodeProto& n) {
    const Shape& s = shapeOf(n.input(0), n);
    int64_t axis = attrInt(n, "axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(s.size());
    std::vector<int64_t> sizes;
    if (auto a = attrInts(n, "split")) sizes = *a;
    else if (hasInput(n, 1)) sizes = toInts(constInput(n, 1));
    else {
      const int64_t parts = attrInt(n, "num_outputs", n.output_size());
      for (int64_t i = 0; i < parts; ++i) sizes.push_back(s[axis] / parts + (i < s[axis] % parts ? 1 : 0));
    }
    const std::string scope = scopeFor(n);
    const NodeId id = addNode(OpKind::Split, scope, {valueOf(n.input(0), n.name())}, {{"axis", axis}, {"split", sizes}}, {},
                              static_cast<int>(sizes.size()), scope);
    for (int i = 0; i < n.output_size(); ++i) setValue(n, i, m_graph.node(id).outputs[i]);
  }

  void importPool(const onnx::NodeProto& n, int index) {
    const bool isMax = n.op_type() == "MaxPool";
    if (n.output_size() > 1 && !n.output(1).empty()) unsupported(n, "MaxPool indices output");
    if (attrString(n, "auto_pad", "NOTSET") != "NOTSET" && attrString(n, "auto_pad", "NOTSET") != "VALID")
      unsupported(n, "auto_pad " + attrString(n, "auto_pad", ""));
    const auto kernel = attrInts(n, "kernel_shape");
    if (!kernel || kernel->size() != 2) unsupported(n, "only 2-D pooling");
    auto pads = attrInts(n, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
    int64_t countIncludePad = attrInt(n, "count_include_pad", 0);
    std::string input = n.input(0);
    if (auto it = m_padBefore.find(index); it != m_padBefore.end()) {
      // Pad (zeros on H, W) then AveragePool: PyTorch's export of AvgPool2d(padding=p).
      const onnx::NodeProto& pad = m_model.graph().node(it->second);
      std::vector<int64_t> pp = attrInts(pad, "pads").value_or(std::vector<int64_t>{});
      if (pp.empty() && hasInput(pad, 1)) pp = toInts(constInput(pad, 1));
      const double value = hasInput(pad, 2) ? constInput(pad, 2).item<double>() : attrFloat(pad, "value", 0.0);
      if (attrString(pad, "mode", "constant") != "constant" || value != 0 || pp.size() != 8 || pp[0] || pp[1] || pp[4] || pp[5])
        unsupported(pad, "only zero padding of H and W before an AveragePool");
      for (int d = 0; d < 4; ++d) pads[d] += pp[d < 2 ? 2 + d : 4 + d];
      countIncludePad = 1;
      input = pad.input(0);
    }
    if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) unsupported(n, "asymmetric padding");
    Attributes a{{"kernel", *kernel},
                 {"stride", attrInts(n, "strides").value_or(std::vector<int64_t>{1, 1})},
                 {"padding", std::vector<int64_t>{pads[0], pads[1]}},
                 {"ceil_mode", attrInt(n, "ceil_mode", 0)}};
    if (isMax) a.set("dilation", attrInts(n, "dilations").value_or(std::vector<int64_t>{1, 1}));
    else a.set("count_include_pad", countIncludePad);
    const std::string scope = scopeFor(n);
    setValue(n, 0, m_graph.out(addNode(isMax ? OpKind::MaxPool : OpKind::AvgPool, scope, {valueOf(input, n.name())},
                                       std::move(a), {}, 1, scope)));
  }

  void importResize(const onnx::NodeProto& n) {
    const std::string mode = attrString(n, "mode", "nearest");
    if (mode != "nearest") unsupported(n, "mode " + mode + " (only nearest)");
    const Shape& s = shapeOf(n.input(0), n);
    if (s.size() != 4) unsupported(n, "only 4-D inputs");
    std::vector<double> scales;
    auto scalesFrom = [&](const at::Tensor& t) {
      const at::Tensor f = t.to(at::kDouble).contiguous();
      scales.assign(f.data_ptr<double>(), f.data_ptr<double>() + f.numel());
    };
    if (n.op_type() == "Upsample") {
      if (const auto* a = findAttr(n, "scales")) scales.assign(a->floats().begin(), a->floats().end());
      else scalesFrom(constInput(n, 1));
    } else {
      const int scalesInput = m_opset >= 11 ? 2 : 1;
      if (hasInput(n, scalesInput) && constInput(n, scalesInput).numel() > 0) scalesFrom(constInput(n, scalesInput));
      if (scales.empty() && hasInput(n, 3)) {
        const auto sizes = toInts(constInput(n, 3));
        for (size_t d = 0; d < sizes.size(); ++d) scales.push_back(static_cast<double>(sizes[d]) / s[d]);
      }
    }
    if (scales.size() != 4 || scales[0] != 1 || scales[1] != 1 || scales[2] != scales[3] || scales[2] != std::floor(scales[2]))
      unsupported(n, "only the same integer scale on H and W");
    simple(n, OpKind::Upsample, {{"scale", scales[2]}});
  }

  void importGemm(const onnx::NodeProto& n) {
    if (attrInt(n, "transA", 0)) unsupported(n, "transA");
    at::Tensor w = constInput(n, 1).to(at::kFloat);
    if (!attrInt(n, "transB", 0)) w = w.t();
    w = (w * attrFloat(n, "alpha", 1.0)).contiguous();
    std::vector<NamedTensor> t = {{"weight", w, false}};
    if (hasInput(n, 2)) {
      at::Tensor b = constInput(n, 2).to(at::kFloat) * attrFloat(n, "beta", 1.0);
      if (b.numel() != w.size(0)) unsupported(n, "bias that is not one value per output");
      t.push_back({"bias", b.reshape({w.size(0)}).contiguous(), false});
    }
    const std::string scope = scopeFor(n, n.input(1));
    setValue(n, 0, m_graph.out(addNode(OpKind::Linear, scope, {valueOf(n.input(0), n.name())}, {}, std::move(t), 1, scope)));
  }

  void importMatMul(const onnx::NodeProto& n) {
    const Ref& b = ref(n.input(1), n.name());
    if (b.isConst() && b.constant.dim() == 2 && shapeOf(n.input(0), n).size() == 2) {
      const std::string scope = scopeFor(n, n.input(1));
      return setValue(n, 0, m_graph.out(addNode(OpKind::Linear, scope, {valueOf(n.input(0), n.name())}, {},
                                                {{"weight", b.constant.to(at::kFloat).t().contiguous(), false}}, 1, scope)));
    }
    simple(n, OpKind::MatMul, {}, 2);
  }

  void importReshape(const onnx::NodeProto& n) {
    if (attrInt(n, "allowzero", 0)) unsupported(n, "allowzero");
    std::vector<int64_t> shape = hasInput(n, 1) ? toInts(constInput(n, 1)) : attrInts(n, "shape").value_or(std::vector<int64_t>{});
    const Shape& in = shapeOf(n.input(0), n);
    // A target that repeats the file's (static) batch becomes "copy the batch".
    if (!shape.empty() && !in.empty() && m_batch > 0 && shape[0] == m_batch && in[0] == m_batch) shape[0] = 0;
    if (!shape.empty() && m_dynamicBatch && !in.empty() && shape[0] == 1 && in[0] == 1) shape[0] = 0;
    simple(n, OpKind::Reshape, {{"shape", shape}});
  }

  void importSlice(const onnx::NodeProto& n) {
    std::vector<int64_t> starts, ends, axes, steps;
    if (m_opset < 10) {
      starts = attrInts(n, "starts").value_or(starts);
      ends = attrInts(n, "ends").value_or(ends);
      axes = attrInts(n, "axes").value_or(axes);
    } else {
      starts = toInts(constInput(n, 1));
      ends = toInts(constInput(n, 2));
      if (hasInput(n, 3)) axes = toInts(constInput(n, 3));
      if (hasInput(n, 4)) steps = toInts(constInput(n, 4));
    }
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    simple(n, OpKind::Slice, {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}});
  }

  void importSqueeze(const onnx::NodeProto& n) {
    auto axes = axesOf(n);
    Shape s = squeezedShape(shapeOf(n.input(0), n), axes, n.op_type() == "Unsqueeze", /*first=*/1);
    if (std::find(axes.begin(), axes.end(), 0) == axes.end() && !s.empty()) s[0] = 0;  // batch stays the batch
    simple(n, OpKind::Reshape, {{"shape", s}});
  }

  void fillMetadata(const onnx::GraphProto& gp) {
    for (const auto& name : m_unusedOutputs)
      for (const auto& node : gp.node())
        for (const auto& in : node.input())
          if (in == name)
            throw Error(m_path, "node '" + node.name() + "' reads '" + name +
                                    "', a training-mode BatchNormalization statistic; export with training=PRESERVE");
    auto& md = m_graph.metadata();
    if (!md.count("model")) md["model"] = std::filesystem::path(m_path).stem().string();
    const Shape& in = m_graph.value(m_graph.inputs().at(0)).shape;
    if (!md.count("input") && in.size() == 4) md["input"] = shapeToString(Shape(in.begin() + 1, in.end()));
    if (!md.count("task") && m_graph.outputs().size() == 1) {
      const Shape& out = m_graph.value(m_graph.outputs()[0]).shape;
      if (out.size() == 2) {
        md["task"] = "classify";
        md["num_classes"] = std::to_string(out[1]);
      }
    }
  }

  std::string m_path;
  OnnxImportOptions m_options;
  onnx::ModelProto m_model;
  int64_t m_opset = 0;
  int64_t m_batch = -1;
  bool m_dynamicBatch = false;
  Graph m_graph;
  std::map<std::string, Ref> m_refs;
  std::set<int> m_skip;
  std::map<int, Fused> m_fused;
  std::map<int, int> m_padBefore;
  std::map<std::string, std::vector<int>> m_users;  // ONNX value -> reading node indices (-1: graph output)
  std::set<std::string> m_unusedOutputs;
};

}  // namespace

Graph importOnnx(const std::string& path, const OnnxImportOptions& options) { return OnnxImporter(path, options).run(); }

bool isOnnxPath(const std::string& path) {
  if (path.size() < 5) return false;
  std::string ext = path.substr(path.size() - 5);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".onnx";
}

}  // namespace prunelab
