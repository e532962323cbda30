#include "io/torchscript_export.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/torch.h>

#include <cctype>
#include <cmath>
#include <sstream>

#include "analysis/shape_inference.h"
#include "detect/yolo_head.h"
#include "graph/input_shape.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
// The shortest decimal that reads back as exactly `v`.
std::string num(double v) {
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

// Builds the module tree and the forward source together.
class ScriptBuilder {
 public:
  ScriptBuilder(const Graph& graph, const Shape& inputChw) : m_g(graph) {
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
    for (const Node& n : m_g.nodes()) withErrorContext(n.name, [&] { emit(os, n); });
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
  static std::string var(ValueId v) { return "v" + std::to_string(v); }

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

  // Registers `n`'s tensors (once) and returns "<module>.<tensor>".
  std::string tensor(const Node& n, const std::string& name) {
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
  std::string buffer(const Node& n, const std::string& name, const at::Tensor& value) {
    tensor(n, n.tensors.front().name);  // the module exists and holds the node's own tensors
    torch::jit::Module m = *m_root;
    for (const std::string& part : splitScope(n.scope)) m = m.attr(part).toModule();
    m.register_parameter(name, value, /*is_buffer=*/true);
    return m_exprOf[n.scope] + "." + name;
  }

  void emit(std::ostream& os, const Node& n) {
    std::vector<std::string> x;
    for (ValueId v : n.inputs) x.push_back(var(v));
    const std::string y = n.outputs.empty() ? "" : var(n.outputs[0]);
    const Shape& s0 = n.inputs.empty() ? Shape{} : m_g.value(n.inputs[0]).shape;
    auto line = [&](const std::string& expr) { os << "    " << y << " = " << expr << "\n"; };
    auto opt = [&](const std::string& t) { return n.hasTensor(t) ? tensor(n, t) : std::string("None"); };
    switch (n.op) {
      case OpKind::Conv:
        line("torch.conv2d(" + x[0] + ", " + tensor(n, "weight") + ", " + opt("bias") + ", " +
             list(n.attrs.getInts("stride", {1, 1})) + ", " + list(n.attrs.getInts("padding", {0, 0})) + ", " +
             list(n.attrs.getInts("dilation", {1, 1})) + ", " + std::to_string(n.attrs.getInt("groups", 1)) + ")");
        break;
      case OpKind::BatchNorm:
        tensor(n, "running_mean");
        line("torch.batch_norm(" + x[0] + ", " + opt("weight") + ", " + opt("bias") + ", " + tensor(n, "running_mean") +
             ", " + tensor(n, "running_var") + ", self.training, " + num(n.attrs.getFloat("momentum", 0.1)) + ", " +
             num(n.attrs.getFloat("eps", 1e-5)) + ", True)");
        break;
      case OpKind::ReLU: line("torch.relu(" + x[0] + ")"); break;
      case OpKind::ReLU6: line("torch.hardtanh(" + x[0] + ", 0.0, 6.0)"); break;
      case OpKind::SiLU: line("torch.silu(" + x[0] + ")"); break;
      case OpKind::LeakyReLU: line("torch.leaky_relu(" + x[0] + ", " + num(n.attrs.getFloat("negative_slope", 0.01)) + ")"); break;
      case OpKind::Sigmoid: line("torch.sigmoid(" + x[0] + ")"); break;
      case OpKind::Hardswish: line("torch.hardswish(" + x[0] + ")"); break;
      case OpKind::Add: line("torch.add(" + x[0] + ", " + x[1] + ")"); break;
      case OpKind::Mul: line("torch.mul(" + x[0] + ", " + x[1] + ")"); break;
      case OpKind::Sub: line("torch.sub(" + x[0] + ", " + x[1] + ")"); break;
      case OpKind::Div: line("torch.div(" + x[0] + ", " + x[1] + ")"); break;
      case OpKind::Pow: line("torch.pow(" + x[0] + ", " + x[1] + ")"); break;
      case OpKind::Concat: {
        std::string l;
        for (size_t i = 0; i < x.size(); ++i) l += (i ? ", " : "") + x[i];
        line("torch.cat([" + l + "], " + std::to_string(n.attrs.getInt("axis", 1)) + ")");
        break;
      }
      case OpKind::Split: {
        os << "    _s" << n.id << " = torch.split_with_sizes(" << x[0] << ", " << list(n.attrs.getInts("split")) << ", "
           << n.attrs.getInt("axis", 1) << ")\n";
        for (size_t i = 0; i < n.outputs.size(); ++i) os << "    " << var(n.outputs[i]) << " = _s" << n.id << "[" << i << "]\n";
        break;
      }
      case OpKind::MaxPool: {
        const auto k = n.attrs.getInts("kernel");
        line("torch.max_pool2d(" + x[0] + ", " + list(k) + ", " + list(n.attrs.has("stride") ? n.attrs.getInts("stride") : k) + ", " +
             list(n.attrs.getInts("padding", {0, 0})) + ", " + list(n.attrs.getInts("dilation", {1, 1})) + ", " +
             (n.attrs.getInt("ceil_mode", 0) ? "True" : "False") + ")");
        break;
      }
      case OpKind::AvgPool: {
        const auto k = n.attrs.getInts("kernel");
        line("torch.avg_pool2d(" + x[0] + ", " + list(k) + ", " + list(n.attrs.has("stride") ? n.attrs.getInts("stride") : k) + ", " +
             list(n.attrs.getInts("padding", {0, 0})) + ", " + (n.attrs.getInt("ceil_mode", 0) ? "True" : "False") + ", " +
             (n.attrs.getInt("count_include_pad", 1) ? "True" : "False") + ")");
        break;
      }
      case OpKind::GlobalAvgPool: line("torch.adaptive_avg_pool2d(" + x[0] + ", [1, 1])"); break;
      case OpKind::Upsample: {
        const std::string s = num(n.attrs.getFloat("scale"));
        line("torch.upsample_nearest2d(" + x[0] + ", None, [" + s + ", " + s + "])");
        break;
      }
      case OpKind::Flatten: line("torch.flatten(" + x[0] + ", " + std::to_string(n.attrs.getInt("start_dim", 1)) + ")"); break;
      case OpKind::Linear: line("torch.linear(" + x[0] + ", " + tensor(n, "weight") + ", " + opt("bias") + ")"); break;
      case OpKind::Dropout: line("torch.dropout(" + x[0] + ", " + num(n.attrs.getFloat("p", 0.5)) + ", self.training)"); break;
      case OpKind::Identity: line(x[0]); break;
      case OpKind::Reshape:
        if (x.size() == 2) {
          line("torch.reshape(" + x[0] + ", " + x[1] + ".size())");
        } else {
          std::string l = "[";
          const auto shape = n.attrs.getInts("shape");
          for (size_t i = 0; i < shape.size(); ++i)
            l += (i ? ", " : "") + (shape[i] == 0 ? x[0] + ".size(" + std::to_string(i) + ")" : std::to_string(shape[i]));
          line("torch.reshape(" + x[0] + ", " + l + "])");
        }
        break;
      case OpKind::Unflatten: {
        const int64_t dim = n.attrs.getInt("dim");
        std::string l = "[";
        for (int64_t i = 0; i < static_cast<int64_t>(s0.size()); ++i) {
          if (i == dim) {
            for (int64_t v : n.attrs.getInts("sizes")) l += (l.size() > 1 ? ", " : "") + std::to_string(v);
          } else {
            l += (l.size() > 1 ? ", " : "") + x[0] + ".size(" + std::to_string(i) + ")";
          }
        }
        line("torch.reshape(" + x[0] + ", " + l + "])");
        break;
      }
      case OpKind::Transpose: line(x[0] + ".permute(" + list(n.attrs.getInts("perm")) + ")"); break;
      case OpKind::MatMul:
        line(n.attrs.has("alpha") ? "torch.mul(torch.matmul(" + x[0] + ", " + x[1] + "), " + num(n.attrs.getFloat("alpha")) + ")"
                                  : "torch.matmul(" + x[0] + ", " + x[1] + ")");
        break;
      case OpKind::Softmax: line("torch.softmax(" + x[0] + ", " + std::to_string(n.attrs.getInt("axis", -1)) + ")"); break;
      case OpKind::Constant: line(tensor(n, "value")); break;
      case OpKind::Slice: {
        // Python slicing has ONNX's clamping of starts/ends built in: x[:, :, 0:2:1].
        const auto axes = n.attrs.getInts("axes"), starts = n.attrs.getInts("starts"), ends = n.attrs.getInts("ends");
        const auto steps = n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1));
        std::vector<std::string> index(s0.size(), ":");
        for (size_t i = 0; i < axes.size(); ++i) {
          if (steps[i] < 1) throw Error(n.name, "Slice with step " + std::to_string(steps[i]) + " is not exported");
          const int64_t axis = axes[i] < 0 ? axes[i] + static_cast<int64_t>(s0.size()) : axes[i];
          index.at(static_cast<size_t>(axis)) =
              std::to_string(starts[i]) + ":" + std::to_string(ends[i]) + ":" + std::to_string(steps[i]);
        }
        std::string e = x[0] + "[";
        for (size_t i = 0; i < index.size(); ++i) e += (i ? ", " : "") + index[i];
        line(e + "]");
        break;
      }
      case OpKind::DetectDecode:
        if (n.attrs.getString("style") == "v5") emitDecodeV5(os, n, x, y);
        else emitDecodeDfl(os, n, x, y);
        break;
    }
  }

  void emitDecodeV5(std::ostream& os, const Node& n, const std::vector<std::string>& x, const std::string& y) {
    const auto strides = n.attrs.getInts("strides");
    const at::Tensor anchors = n.tensor("anchors").detach().to(at::kFloat);
    std::string levels;
    for (size_t i = 0; i < x.size(); ++i) {
      const Shape& s = m_g.value(n.inputs[i]).shape;
      const int64_t na = s[1], ny = s[2], nx = s[3], no = s[4];
      const double stride = static_cast<double>(strides.at(i));
      const std::string grid = buffer(n, "grid" + std::to_string(i), detect::gridPoints(ny, nx, -0.5, at::kFloat).view({1, 1, ny, nx, 2}));
      const std::string anchorPx = buffer(n, "anchor_grid" + std::to_string(i),
                                          (anchors[static_cast<int64_t>(i)] * stride).view({1, na, 1, 1, 2}).contiguous());
      const std::string t = "_d" + std::to_string(n.id) + "_" + std::to_string(i);
      os << "    " << t << " = torch.sigmoid(" << x[i] << ")\n";
      os << "    " << t << "xy = (torch.narrow(" << t << ", 4, 0, 2) * 2.0 + " << grid << ") * " << num(stride) << "\n";
      os << "    " << t << "wh = torch.pow(torch.narrow(" << t << ", 4, 2, 2) * 2.0, 2.0) * " << anchorPx << "\n";
      os << "    " << t << "o = torch.reshape(torch.cat([" << t << "xy, " << t << "wh, torch.narrow(" << t << ", 4, 4, " << no - 4
         << ")], 4), [" << x[i] << ".size(0), " << na * ny * nx << ", " << no << "])\n";
      levels += (levels.empty() ? "" : ", ") + t + "o";
    }
    os << "    " << y << " = torch.cat([" << levels << "], 1)\n";
  }

  void emitDecodeDfl(std::ostream& os, const Node& n, const std::vector<std::string>& x, const std::string& y) {
    const auto strides = n.attrs.getInts("strides");
    const int64_t regMax = n.attrs.getInt("reg_max", 16);
    const int64_t channels = m_g.value(n.inputs[0]).shape[1], nc = channels - 4 * regMax;
    std::vector<at::Tensor> points, scale;
    std::string flat;
    for (size_t i = 0; i < x.size(); ++i) {
      const Shape& s = m_g.value(n.inputs[i]).shape;
      points.push_back(detect::gridPoints(s[2], s[3], 0.5, at::kFloat));
      scale.push_back(at::full({s[2] * s[3], 1}, static_cast<float>(strides.at(i))));
      flat += (flat.empty() ? "" : ", ") + std::string("torch.reshape(") + x[i] + ", [" + x[i] + ".size(0), " +
              std::to_string(channels) + ", " + std::to_string(s[2] * s[3]) + "])";
    }
    const int64_t a = at::cat(points, 0).size(0);
    const std::string anchors = buffer(n, "anchor_points", at::cat(points, 0).t().unsqueeze(0).contiguous());
    const std::string stride = buffer(n, "stride_tensor", at::cat(scale, 0).t().unsqueeze(0).contiguous());
    const std::string t = "_d" + std::to_string(n.id);
    os << "    " << t << " = torch.cat([" << flat << "], 2)\n";
    os << "    " << t << "b = torch.softmax(torch.reshape(torch.narrow(" << t << ", 1, 0, " << 4 * regMax << "), [" << t
       << ".size(0), 4, " << regMax << ", " << a << "]), 2)\n";
    os << "    " << t << "d = torch.sum(" << t << "b * torch.reshape(" << tensor(n, "weight") << ", [1, 1, " << regMax
       << ", 1]), [2])\n";
    os << "    " << t << "p = " << anchors << " - torch.narrow(" << t << "d, 1, 0, 2)\n";
    os << "    " << t << "q = " << anchors << " + torch.narrow(" << t << "d, 1, 2, 2)\n";
    os << "    " << y << " = torch.cat([torch.cat([(" << t << "p + " << t << "q) / 2.0, " << t << "q - " << t << "p], 1) * "
       << stride << ", torch.sigmoid(torch.narrow(" << t << ", 1, " << 4 * regMax << ", " << nc << "))], 1)\n";
  }

  Graph m_g;
  std::shared_ptr<torch::jit::CompilationUnit> m_cu;
  std::unique_ptr<torch::jit::Module> m_root;
  std::map<std::string, std::string> m_exprOf;
  std::set<std::string> m_registered;
  int m_modules = 0;
};

}  // namespace

std::string torchScriptSource(const Graph& graph, const Shape& inputChw) { return ScriptBuilder(graph, inputChw).source(); }

void exportTorchScript(const Graph& graph, const std::string& path, const Shape& inputChw) {
  torch::jit::Module m = ScriptBuilder(graph, inputChw).build();
  replaceFileAtomically(path, [&](const std::string& tmp) { m.save(tmp); });
}

}  // namespace prunelab
