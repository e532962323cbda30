#include "io/graph_json.h"

#include <nlohmann/json.hpp>

#include "io/json_read.h"
#include "util/error.h"

namespace prunelab {

using nlohmann::json;

namespace {

json attrToJson(const AttrValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int64_t>) return {{"i", x}};
        else if constexpr (std::is_same_v<T, double>) return {{"f", x}};
        else if constexpr (std::is_same_v<T, std::string>) return {{"s", x}};
        else return {{"ints", x}};
      },
      v);
}

AttrValue attrFromJson(const json& j) {
  if (j.contains("i")) return jsonInt<int64_t>(j.at("i"));
  if (j.contains("f")) return j.at("f").get<double>();
  if (j.contains("s")) return j.at("s").get<std::string>();
  return jsonInts<int64_t>(j.at("ints"));
}

}  // namespace

json attributesToJson(const Attributes& attrs) {
  json j = json::object();
  for (const auto& [k, v] : attrs.values()) j[k] = attrToJson(v);
  return j;
}

Attributes attributesFromJson(const json& j) {
  Attributes attrs;
  for (const auto& [k, v] : j.items()) attrs.set(k, attrFromJson(v));
  return attrs;
}

json graphToJson(const Graph& g) {
  json values = json::array();
  for (const Value& v : g.values()) values.push_back({{"name", v.name}, {"shape", v.shape}});
  json nodes = json::array();
  for (const Node& n : g.nodes()) {
    const json attrs = attributesToJson(n.attrs);
    json tensors = json::array();
    for (const NamedTensor& t : n.tensors)
      tensors.push_back({{"name", t.name}, {"buffer", t.isBuffer}, {"key", n.key(t.name)}});
    nodes.push_back({{"op", opKindName(n.op)},
                     {"name", n.name},
                     {"scope", n.scope},
                     {"attrs", attrs},
                     {"inputs", n.inputs},
                     {"outputs", n.outputs},
                     {"tensors", tensors}});
  }
  return {{"values", values}, {"inputs", g.inputs()}, {"outputs", g.outputs()}, {"nodes", nodes},
          {"metadata", g.metadata()}};
}

Graph graphFromJson(const json& j, const std::function<at::Tensor(const json&)>& loadTensor,
                    const std::string& source) {
  try {
    const json& values = j.at("values");
    Graph g;
    // Values are recreated in the same order: graph inputs first where they were, node
    // outputs as each node is added, so ids stay identical.
    std::vector<ValueId> inputs = jsonInts<ValueId>(j.at("inputs"));
    std::map<ValueId, ValueId> remap;
    for (ValueId in : inputs) {
      const json& v = values.at(static_cast<size_t>(in));
      remap[in] = g.addInput(v.at("name").get<std::string>(), jsonInts<int64_t>(v.at("shape")));
    }
    for (const json& jn : j.at("nodes")) {
      Attributes attrs = attributesFromJson(jn.at("attrs"));
      std::vector<NamedTensor> tensors;
      for (const json& t : jn.at("tensors"))
        tensors.push_back({t.at("name").get<std::string>(), loadTensor(t), t.at("buffer").get<bool>()});
      std::vector<ValueId> in;
      for (ValueId v : jsonInts<ValueId>(jn.at("inputs"))) {
        auto it = remap.find(v);
        if (it == remap.end()) throw Error(source, "node " + jn.at("name").get<std::string>() + " uses an undefined value");
        in.push_back(it->second);
      }
      const auto outs = jsonInts<ValueId>(jn.at("outputs"));
      const NodeId id = g.addNode(opKindFromName(jn.at("op").get<std::string>()), jn.at("name").get<std::string>(), in,
                                  std::move(attrs), std::move(tensors), static_cast<int>(outs.size()),
                                  jn.at("scope").get<std::string>());
      Node& n = g.node(id);
      for (size_t i = 0; i < outs.size(); ++i) {
        remap[outs[i]] = n.outputs[i];
        Value& v = g.value(n.outputs[i]);
        v.name = values.at(static_cast<size_t>(outs[i])).at("name").get<std::string>();
        v.shape = jsonInts<int64_t>(values.at(static_cast<size_t>(outs[i])).at("shape"));
      }
    }
    for (ValueId v : jsonInts<ValueId>(j.at("outputs"))) g.markOutput(remap.at(v));
    g.metadata() = j.at("metadata").get<std::map<std::string, std::string>>();
    return g;
  } catch (const json::exception& e) {
    throw Error(source, std::string("malformed graph description: ") + e.what());
  } catch (const std::out_of_range& e) {
    throw Error(source, "malformed graph description: value index out of range");
  }
}

}  // namespace prunelab
