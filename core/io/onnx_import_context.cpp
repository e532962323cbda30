#include "ops/onnx_import_context.h"

#include <ATen/ATen.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>

#include "io/onnx_tensor.h"
#include "ops/op_table.h"
#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

namespace {

const onnx::AttributeProto* findAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
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

}  // namespace

// --- OnnxNodeView ---------------------------------------------------------------------------------

const std::string& OnnxNodeView::opType() const { return m_proto->op_type(); }
const std::string& OnnxNodeView::name() const { return m_proto->name(); }
int OnnxNodeView::inputCount() const { return m_proto->input_size(); }
// Checked: a converter asks for the inputs and outputs its op has, the file may hold fewer.
const std::string& OnnxNodeView::input(int i) const {
  if (i < 0 || i >= m_proto->input_size())
    throw Error("node " + name() + " (" + opType() + ")", "has no input " + std::to_string(i));
  return m_proto->input(i);
}
bool OnnxNodeView::hasInput(int i) const { return m_proto->input_size() > i && !m_proto->input(i).empty(); }
int OnnxNodeView::outputCount() const { return m_proto->output_size(); }
const std::string& OnnxNodeView::output(int i) const {
  if (i < 0 || i >= m_proto->output_size())
    throw Error("node " + name() + " (" + opType() + ")", "has no output " + std::to_string(i));
  return m_proto->output(i);
}
bool OnnxNodeView::hasAttr(const std::string& name) const { return findAttr(*m_proto, name) != nullptr; }
int64_t OnnxNodeView::attrInt(const std::string& name, int64_t fallback) const {
  const auto* a = findAttr(*m_proto, name);
  return a ? a->i() : fallback;
}
double OnnxNodeView::attrFloat(const std::string& name, double fallback) const {
  const auto* a = findAttr(*m_proto, name);
  return a ? a->f() : fallback;
}
std::string OnnxNodeView::attrString(const std::string& name, const std::string& fallback) const {
  const auto* a = findAttr(*m_proto, name);
  return a ? a->s() : fallback;
}
std::optional<std::vector<int64_t>> OnnxNodeView::attrInts(const std::string& name) const {
  const auto* a = findAttr(*m_proto, name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}
std::optional<std::vector<double>> OnnxNodeView::attrFloats(const std::string& name) const {
  const auto* a = findAttr(*m_proto, name);
  if (!a) return std::nullopt;
  return std::vector<double>(a->floats().begin(), a->floats().end());
}
at::Tensor OnnxNodeView::attrTensor(const std::string& name, const std::string& file) const {
  const auto* a = findAttr(*m_proto, name);
  return a ? tensorFromOnnx(a->t(), file) : at::Tensor();
}

// --- values ---------------------------------------------------------------------------------------

OnnxRef& OnnxImportContext::ref(const std::string& name, const std::string& what) {
  auto it = m_refs.find(name);
  if (it == m_refs.end()) throw Error(m_path, what + " uses '" + name + "', which no node produces");
  return it->second;
}

bool OnnxImportContext::isConst(const std::string& name) const {
  auto it = m_refs.find(name);
  return it != m_refs.end() && it->second.isConst();
}

const at::Tensor& OnnxImportContext::constInput(const OnnxNodeView& n, int i) {
  const OnnxRef& r = ref(n.input(i), "node '" + n.name() + "'");
  if (!r.isConst())
    throw Error(m_path, "node '" + n.name() + "' (" + n.opType() + "): input " + std::to_string(i) + " ('" + n.input(i) +
                            "') must be a constant");
  return r.constant;
}

ValueId OnnxImportContext::valueOf(const std::string& name, const std::string& user) {
  OnnxRef& r = ref(name, "node '" + user + "'");
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

const Shape& OnnxImportContext::shapeOf(const std::string& name, const OnnxNodeView& user) {
  return m_graph.value(valueOf(name, user.name())).shape;
}

void OnnxImportContext::setConst(const OnnxNodeView& n, int output, at::Tensor t) {
  m_refs[n.output(output)] = OnnxRef{-1, std::move(t)};
}
void OnnxImportContext::setValue(const OnnxNodeView& n, int output, ValueId v) { m_refs[n.output(output)] = OnnxRef{v, {}}; }

bool OnnxImportContext::allInputsConst(const OnnxNodeView& n) const {
  for (int i = 0; i < n.inputCount(); ++i) {
    if (n.input(i).empty()) continue;
    if (!isConst(n.input(i))) return false;
  }
  return true;
}

// --- building -------------------------------------------------------------------------------------

NodeId OnnxImportContext::addNode(OpKind op, const std::string& name, const std::vector<ValueId>& inputs, Attributes attrs,
                                  std::vector<NamedTensor> tensors, int outputs, const std::string& scope) {
  const NodeId id = m_graph.addNode(op, name, inputs, std::move(attrs), std::move(tensors), outputs, scope);
  Node& n = m_graph.node(id);
  std::vector<Shape> in;
  for (ValueId v : n.inputs) in.push_back(m_graph.value(v).shape);
  const auto out = withErrorContext(m_path, [&] {
    auto shapes = opSpec(op).inferShapes(n, in);
    // As inferShapes does: the next shape rule must never see an overflowing size.
    for (const Shape& s : shapes) checkedNumel(n.name + ": output", s);
    return shapes;
  });
  for (size_t i = 0; i < out.size() && i < n.outputs.size(); ++i) m_graph.value(n.outputs[i]).shape = out[i];
  return id;
}

void OnnxImportContext::simple(const OnnxNodeView& n, OpKind op, Attributes attrs, int inputs) {
  std::vector<ValueId> in;
  for (int i = 0; i < inputs; ++i) in.push_back(valueOf(n.input(i), n.name()));
  const std::string scope = scopeFor(n);
  setValue(n, 0, m_graph.out(addNode(op, scope, in, std::move(attrs), {}, 1, scope)));
}

std::string OnnxImportContext::scopeFor(const OnnxNodeView& n, const std::string& weightName) const {
  static const std::string suffix = ".weight";
  if (weightName.size() > suffix.size() && weightName.rfind("onnx::", 0) != 0 &&
      weightName.compare(weightName.size() - suffix.size(), suffix.size(), suffix) == 0)
    return weightName.substr(0, weightName.size() - suffix.size());
  std::string s = scopeFromNodeName(n.name());
  if (!s.empty()) return s;
  if (!n.name().empty()) return sanitize(n.name());
  std::string op = n.opType();
  std::transform(op.begin(), op.end(), op.begin(), [](unsigned char c) { return std::tolower(c); });
  return op;
}

void OnnxImportContext::unsupported(const OnnxNodeView& n, const std::string& why) const {
  throw Error(m_path, "unsupported op '" + n.opType() + "' at node '" + n.name() + "'" + (why.empty() ? "" : ": " + why));
}

std::vector<int64_t> OnnxImportContext::axesOf(const OnnxNodeView& n) {
  if (auto a = n.attrInts("axes")) return *a;
  if (n.hasInput(1)) return onnxInts(constInput(n, 1));
  return {};
}

size_t OnnxImportContext::readers(const std::string& value) const {
  auto it = m_users.find(value);
  return it == m_users.end() ? 0 : it->second.size();
}

std::optional<OnnxNodeView> OnnxImportContext::padBefore(const OnnxNodeView& pool) const {
  auto it = m_padBefore.find(pool.index());
  if (it == m_padBefore.end()) return std::nullopt;
  return OnnxNodeView(m_gp->node(it->second), it->second);
}

// --- helpers --------------------------------------------------------------------------------------

std::vector<int64_t> onnxInts(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous().view(-1);
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

Shape squeezedShape(Shape s, std::vector<int64_t>& axes, bool unsqueeze, size_t first) {
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

}  // namespace prunelab
