#include "exec/graph_module.h"

#include <torch/torch.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

GraphModuleImpl::GraphModuleImpl(std::shared_ptr<Graph> graph) : m_graph(std::move(graph)) {
  if (!m_graph) throw Error("GraphModule", "no graph");
  registerTensors();
  planExecution();
}

void GraphModuleImpl::registerTensors() {
  // Child modules keyed by their full path; "" is this module.
  std::map<std::string, torch::nn::Module*> modules{{"", this}};
  auto moduleFor = [&](const std::string& scope) -> torch::nn::Module* {
    std::string path;
    torch::nn::Module* parent = this;
    size_t start = 0;
    while (start <= scope.size() && !scope.empty()) {
      const size_t dot = scope.find('.', start);
      const std::string part = scope.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      path = path.empty() ? part : path + "." + part;
      auto it = modules.find(path);
      if (it == modules.end()) {
        auto child = parent->register_module(part, std::make_shared<torch::nn::Module>(part));
        it = modules.emplace(path, child.get()).first;
      }
      parent = it->second;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return parent;
  };
  for (Node& n : m_graph->nodes()) {
    if (n.tensors.empty()) continue;
    torch::nn::Module* m = moduleFor(n.scope);
    for (NamedTensor& t : n.tensors) {
      const bool exists = t.isBuffer ? m->named_buffers(false).contains(t.name)
                                     : m->named_parameters(false).contains(t.name);
      if (exists) throw Error(n.key(t.name), "registered twice (two nodes share a scope and tensor name)");
      if (t.isBuffer)
        m->register_buffer(t.name, t.tensor);
      else
        m->register_parameter(t.name, t.tensor, /*requires_grad=*/t.tensor.is_floating_point());
    }
  }
}

void GraphModuleImpl::planExecution() {
  const Graph& g = *m_graph;
  std::vector<int> lastUse(g.values().size(), -1);
  for (const Node& n : g.nodes())
    for (ValueId v : n.inputs) lastUse[v] = n.id;
  for (ValueId v : g.outputs()) lastUse[v] = static_cast<int>(g.nodes().size());  // never freed
  m_releaseAfter.assign(g.nodes().size(), {});
  for (size_t v = 0; v < lastUse.size(); ++v)
    if (lastUse[v] >= 0 && lastUse[v] < static_cast<int>(g.nodes().size())) m_releaseAfter[lastUse[v]].push_back(v);

  m_inPlaceOk.assign(g.nodes().size(), false);
  for (const Node& n : g.nodes()) {
    if (!opSpec(n.op).canRunInPlace || n.inputs.empty()) continue;
    const Value& in = g.value(n.inputs[0]);
    if (in.producer < 0 || in.consumers.size() != 1) continue;
    if (std::find(g.outputs().begin(), g.outputs().end(), in.id) != g.outputs().end()) continue;
    m_inPlaceOk[n.id] = opSpec(g.node(in.producer).op).outputReusable;
  }
}

std::vector<at::Tensor> GraphModuleImpl::forward(const std::vector<at::Tensor>& inputs) { return run(inputs, nullptr); }

std::vector<at::Tensor> GraphModuleImpl::capture(const std::vector<at::Tensor>& inputs,
                                                 const std::vector<ValueId>& capture) {
  return run(inputs, &capture);
}

std::vector<at::Tensor> GraphModuleImpl::run(const std::vector<at::Tensor>& inputs, const std::vector<ValueId>* capture) {
  const Graph& g = *m_graph;
  if (inputs.size() != g.inputs().size())
    throw Error("forward", "graph has " + std::to_string(g.inputs().size()) + " inputs, got " +
                               std::to_string(inputs.size()));
  std::vector<at::Tensor> values(g.values().size());
  for (size_t i = 0; i < inputs.size(); ++i) values[g.inputs()[i]] = inputs[i];

  OpContext ctx;
  ctx.training = is_training();
  ctx.frozenBatchNorm = m_frozenBatchNorm;
  if (m_crossReplicaSum) ctx.crossReplicaSum = &m_crossReplicaSum;
  // Capturing: keep the captured values, release the others after their last use as a
  // forward does, and stop after the last node a captured value needs (the layer-by-layer
  // refit of pruning/reconstruction.h captures one early value per pass).
  std::vector<bool> keep;
  NodeId lastNeeded = g.nodes().empty() ? -1 : g.nodes().back().id;
  if (capture) {
    keep.assign(g.values().size(), false);
    lastNeeded = -1;
    for (ValueId v : *capture) {
      keep.at(static_cast<size_t>(v)) = true;
      lastNeeded = std::max(lastNeeded, g.value(v).producer);
    }
  }
  std::vector<at::Tensor> args;
  for (const Node& n : g.nodes()) {
    if (n.id > lastNeeded) break;
    if (ctx.training && !capture && opSpec(n.op).inferenceOnly) continue;
    args.clear();
    for (ValueId v : n.inputs) args.push_back(values[v]);
    ctx.mayReuseInput = !capture && m_inPlaceOk[n.id];
    std::vector<at::Tensor> out;
    try {
      const OpSpec& spec = opSpec(n.op);
      out = spec.lowered ? m_lowered.run(n, args, ctx) : spec.forward(n, args, ctx);
    } catch (...) {
      rethrowAsError(n.name);
    }
    for (size_t i = 0; i < out.size(); ++i) values[n.outputs[i]] = std::move(out[i]);
    for (ValueId v : m_releaseAfter[n.id])
      if (!capture || !keep[static_cast<size_t>(v)]) values[v].reset();
  }
  if (capture) {
    std::vector<at::Tensor> captured;
    for (ValueId v : *capture) captured.push_back(values.at(static_cast<size_t>(v)));
    return captured;
  }
  std::vector<at::Tensor> result;
  result.reserve(g.outputs().size());
  for (ValueId v : g.outputs()) result.push_back(values[v]);
  return result;
}

at::Tensor GraphModuleImpl::forward(const at::Tensor& input) {
  auto out = forward(std::vector<at::Tensor>{input});
  if (out.size() != 1) throw Error("forward", "graph has " + std::to_string(out.size()) + " outputs, not 1");
  return out[0];
}

}  // namespace prunelab
