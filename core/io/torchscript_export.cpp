#include "io/torchscript_export.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/torch.h>

#include <cctype>
#include <cmath>
#include <sstream>

#include "analysis/shape_inference.h"
#include "graph/input_shape.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "passes/lowering.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

std::string scriptList(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// The shortest decimal that reads back as exactly `v`.
std::string scriptNum(double v) {
  std::string s;
  for (int precision = 6; precision <= 17; ++precision) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    s = os.str();
    if (std::stod(s) == v) break;
  }
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // a float literal
  return s;
}

std::string ScriptEmitter::optionalTensor(const Node& n, const std::string& name) {
  return n.hasTensor(name) ? tensor(n, name) : std::string("None");
}

namespace {

bool isIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}
std::vector<std::string> splitScope(const std::string& scope) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : scope) {
    if (c == '.') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

// Builds the module tree and the forward source together; each IR node's TorchScript
// form (OpSpec::torchScript) writes its statements through this.
class ScriptBuilder : public ScriptEmitter {
 public:
  ScriptBuilder(const Graph& graph, const Shape& inputChw) : m_g(graph.share()) {
    const Shape chw = inputChw.empty() ? defaultInputShape(m_g) : inputChw;
    Shape in{1};
    in.insert(in.end(), chw.begin(), chw.end());
    inferShapes(m_g, std::vector<Shape>(m_g.inputs().size(), in));
    m_cu = std::make_shared<torch::jit::CompilationUnit>();
    m_root = std::make_unique<torch::jit::Module>(c10::QualifiedName("__torch__.prunelab.PrunedModel"), m_cu);
    m_root->register_attribute("training", c10::BoolType::get(), false);  // what nn.Module.train() sets
  }

  std::string source() {
    std::ostringstream os;
    os << "def forward(self";
    for (ValueId v : m_g.inputs()) os << ", " << var(v) << ": Tensor";
    os << "):\n";
    m_os = &os;
    for (const Node& n : m_g.nodes()) withErrorContext(n.name, [&] { emit(n); });
    os << "    return ";
    if (m_g.outputs().size() == 1) {
      os << var(m_g.outputs()[0]);
    } else {
      os << "(";
      for (size_t i = 0; i < m_g.outputs().size(); ++i) os << (i ? ", " : "") << var(m_g.outputs()[i]);
      os << ")";
    }
    os << "\n";
    return os.str();
  }

  // --- ScriptEmitter ---------------------------------------------------------------------------

  const Graph& graph() const override { return m_fragment ? *m_fragment : m_g; }
  const std::vector<std::string>& inputs() const override { return m_x; }
  std::string var(ValueId v) const override { return m_fragment ? m_fragmentVars.at(v) : "v" + std::to_string(v); }
  void assign(const std::string& expr) override { statement(m_y + " = " + expr); }
  void statement(const std::string& text) override { *m_os << "    " << text << "\n"; }

  // Registers `n`'s tensors (once) and returns "<module>.<tensor>".
  std::string tensor(const Node& n, const std::string& name) override {
    std::string mod = m_exprOf.count(n.scope) ? m_exprOf[n.scope] : moduleFor(n.scope);
    const std::string key = n.scope + "." + name;
    if (!m_registered.count(key)) {
      torch::jit::Module m = *m_root;
      for (const std::string& part : splitScope(n.scope)) m = m.attr(part).toModule();
      for (const NamedTensor& t : n.tensors) {
        if (m.hasattr(t.name)) {
          if (m_registered.count(n.scope + "." + t.name)) continue;
          throw Error(n.name, "scope " + n.scope + " already has an attribute '" + t.name + "'");
        }
        at::Tensor value = t.tensor.detach();
        if (!t.isBuffer && value.is_floating_point()) value = value.requires_grad_(true);
        m.register_parameter(t.name, value, t.isBuffer);
        m_registered.insert(n.scope + "." + t.name);
      }
      if (!m_registered.count(key)) throw Error(n.name, "has no tensor '" + name + "'");
    }
    return mod + "." + name;
  }
  // An extra buffer (decode grids) on the node's module.
  std::string buffer(const Node& n, const std::string& name, const at::Tensor& value) override {
    tensor(n, n.tensors.front().name);  // the module exists and holds the node's own tensors
    torch::jit::Module m = *m_root;
    for (const std::string& part : splitScope(n.scope)) m = m.attr(part).toModule();
    m.register_parameter(name, value, /*is_buffer=*/true);
    return m_exprOf[n.scope] + "." + name;
  }

  torch::jit::Module build() {
    const std::string src = source();
    try {
      m_root->define(src);
    } catch (const std::exception& e) {
      throw Error("TorchScript export", std::string("generated forward does not compile: ") + e.what());
    }
    m_root->eval();
    return *m_root;
  }

 private:
  // The submodule for `scope`, created on first use; returns its access expression.
  std::string moduleFor(const std::string& scope) {
    std::string expr = "self";
    torch::jit::Module cur = *m_root;
    for (const std::string& part : splitScope(scope)) {
      if (!cur.hasattr(part)) {
        torch::jit::Module child(c10::QualifiedName("__torch__.prunelab.M" + std::to_string(m_modules++)), m_cu);
        child.register_attribute("training", c10::BoolType::get(), false);
        cur.register_module(part, child);
      }
      const c10::IValue attr = cur.attr(part);
      if (!attr.isModule()) throw Error(scope, "'" + part + "' is both a tensor and a module in the scope tree");
      cur = attr.toModule();
      expr = isIdentifier(part) ? expr + "." + part : "getattr(" + expr + ", \"" + part + "\")";
    }
    m_exprOf[scope] = expr;
    return expr;
  }

  void emit(const Node& n) {
    const OpSpec& spec = opSpec(n.op);
    if (!spec.torchScript && !spec.lowered)
      throw Error(n.name, "op " + std::string(opKindName(n.op)) + " has no TorchScript form");
    m_x.clear();
    for (ValueId v : n.inputs) m_x.push_back(var(v));
    m_y = n.outputs.empty() ? "" : var(n.outputs[0]);
    if (spec.lowered) emitLowered(n);
    else spec.torchScript(*this, n);
  }

  // A composite node as its lowering's primitives; the fragment's Constants become
  // buffers on the composite's module, next to its own tensors.
  void emitLowered(const Node& n) {
    std::vector<Shape> shapes;
    for (ValueId v : n.inputs) shapes.push_back(m_g.value(v).shape);
    const Graph fragment = passes::lowerNode(n, shapes);
    std::vector<std::string> vars(fragment.values().size());
    for (size_t i = 0; i < fragment.inputs().size(); ++i) vars[fragment.inputs()[i]] = var(n.inputs.at(i));
    for (size_t i = 0; i < fragment.outputs().size(); ++i) vars[fragment.outputs()[i]] = var(n.outputs.at(i));
    for (const Value& v : fragment.values())
      if (vars[v.id].empty()) vars[v.id] = "_l" + std::to_string(n.id) + "_" + std::to_string(v.id);
    if (!n.tensors.empty()) tensor(n, n.tensors.front().name);  // the module keeps the node's own tensors
    for (const Node& f : fragment.nodes())
      if (f.op == OpKind::Constant) vars[f.outputs[0]] = buffer(n, f.name.substr(n.name.size() + 1), f.tensor("value"));
    m_fragment = &fragment;
    m_fragmentVars = vars;
    for (const Node& f : fragment.nodes()) {
      if (f.op == OpKind::Constant) continue;
      m_x.clear();
      for (ValueId v : f.inputs) m_x.push_back(vars[v]);
      m_y = vars[f.outputs[0]];
      opSpec(f.op).torchScript(*this, f);
    }
    m_fragment = nullptr;
  }

  Graph m_g;
  const Graph* m_fragment = nullptr;        // while a composite's lowering is written
  std::vector<std::string> m_fragmentVars;  // its values' variables
  std::shared_ptr<torch::jit::CompilationUnit> m_cu;
  std::unique_ptr<torch::jit::Module> m_root;
  std::map<std::string, std::string> m_exprOf;
  std::set<std::string> m_registered;
  int m_modules = 0;
  std::ostream* m_os = nullptr;  // forward's body, while source() runs
  std::vector<std::string> m_x;  // the node being written: input variables
  std::string m_y;               // and its first output's
};

}  // namespace

std::string torchScriptSource(const Graph& graph, const Shape& inputChw) { return ScriptBuilder(graph, inputChw).source(); }

void exportTorchScript(const Graph& graph, const std::string& path, const Shape& inputChw) {
  torch::jit::Module m = ScriptBuilder(graph, inputChw).build();
  replaceFileAtomically(path, [&](const std::string& tmp) { m.save(tmp); });
}

}  // namespace prunelab
