#include "ops/op_table.h"

#include <ATen/ATen.h>

#include <map>

#include "util/error.h"

namespace prunelab {

namespace {

struct Tables {
  std::vector<OpSpec> specs;
  std::map<std::string, OnnxImportFn> onnxImports;
};

Tables buildTables() {
  OpRegistry r;
  ops::addConvOps(r);
  ops::addNormOps(r);
  ops::addActivationOps(r);
  ops::addElementwiseOps(r);
  ops::addPoolOps(r);
  ops::addShapeOps(r);
  ops::addLinearOps(r);
  ops::addTensorOps(r);
  ops::addDetectOps(r);

  Tables t;
  t.specs.resize(kOpKindCount);
  std::vector<bool> seen(kOpKindCount, false);
  for (auto& e : r.specs) {
    if (seen[static_cast<size_t>(e.kind)]) throw Error(opKindName(e.kind), "op has two entries in the op table");
    t.specs[static_cast<size_t>(e.kind)] = e;
    seen[static_cast<size_t>(e.kind)] = true;
  }
  for (int i = 0; i < kOpKindCount; ++i)
    if (!seen[i]) throw Error(opKindName(static_cast<OpKind>(i)), "op has no entry in the op table");
  for (const auto& [type, fn] : r.onnxImports)
    if (!t.onnxImports.emplace(type, fn).second) throw Error("ONNX op '" + type + "'", "two import converters");
  return t;
}

const Tables& tables() {
  static const Tables t = buildTables();
  return t;
}

}  // namespace

const OpSpec& opSpec(OpKind kind) { return tables().specs[static_cast<size_t>(kind)]; }

OnnxImportFn onnxImporter(const std::string& onnxOpType) {
  const auto& m = tables().onnxImports;
  auto it = m.find(onnxOpType);
  return it == m.end() ? nullptr : it->second;
}

std::vector<std::string> onnxImportTypes() {
  std::vector<std::string> r;
  for (const auto& [type, fn] : tables().onnxImports) r.push_back(type);
  return r;
}

namespace {

const TensorChannelDims* declared(OpKind kind, const std::string& tensor) {
  for (const TensorChannelDims& d : opSpec(kind).layout)
    if (d.tensor == tensor) return &d;
  return nullptr;
}

const TensorChannelDims& outInDims(OpKind kind, const std::string& tensor) {
  const TensorChannelDims* d = declared(kind, tensor);
  if (!d || d->outDim < 0 || d->inDim < 0)
    throw Error(std::string(opKindName(kind)) + "." + tensor, "has no declared out and in channel dims");
  return *d;
}

}  // namespace

int outChannelDim(OpKind kind, const std::string& tensor) {
  const TensorChannelDims* d = declared(kind, tensor);
  return d ? d->outDim : -1;
}

int inChannelDim(OpKind kind, const std::string& tensor) {
  const TensorChannelDims* d = declared(kind, tensor);
  return d ? d->inDim : -1;
}

at::Tensor toOutInLayout(OpKind kind, const std::string& tensor, const at::Tensor& t) {
  const TensorChannelDims& d = outInDims(kind, tensor);
  return t.movedim(at::IntArrayRef{d.outDim, d.inDim}, at::IntArrayRef{0, 1});
}

at::Tensor fromOutInLayout(OpKind kind, const std::string& tensor, const at::Tensor& outIn) {
  const TensorChannelDims& d = outInDims(kind, tensor);
  return outIn.movedim(at::IntArrayRef{0, 1}, at::IntArrayRef{d.outDim, d.inDim});
}

std::vector<int64_t> outChannelBroadcastShape(OpKind kind, const std::string& tensor, int64_t rank) {
  const int dim = outChannelDim(kind, tensor);
  if (dim < 0 || dim >= rank) throw Error(std::string(opKindName(kind)) + "." + tensor, "has no declared out channel dim");
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(dim)] = -1;
  return shape;
}

ChannelGrouping channelGrouping(const Node& n) {
  const GroupingFn fn = opSpec(n.op).grouping;
  return fn ? fn(n) : ChannelGrouping::Dense;
}

std::vector<TensorChannelDims> slicedChannelDims(const Node& n) {
  const ChannelGrouping grouping = channelGrouping(n);
  std::vector<TensorChannelDims> r;
  if (grouping == ChannelGrouping::Grouped) return r;
  for (TensorChannelDims d : opSpec(n.op).layout) {
    if (!n.hasTensor(d.tensor)) continue;
    // Depthwise: input channel c is output channel c, already sliced along the out dim.
    if (grouping == ChannelGrouping::Depthwise) d.inDim = -1;
    if (d.outDim >= 0 || d.inDim >= 0) r.push_back(d);
  }
  return r;
}

bool isChannelNorm(OpKind kind) { return !opSpec(kind).normScale.empty(); }

bool hasNormScale(const Node& n) { return isChannelNorm(n.op) && n.hasTensor(opSpec(n.op).normScale); }

bool isNormScale(OpKind kind, const std::string& tensor) { return isChannelNorm(kind) && opSpec(kind).normScale == tensor; }

const std::string& normScale(OpKind kind) { return opSpec(kind).normScale; }

const std::string& normShift(OpKind kind) { return opSpec(kind).normShift; }

bool flattensChannels(const Shape& in, const Shape& out) {
  return in.size() == 4 && out.size() == 2 && out[0] == in[0] && out[1] == in[1] * in[2] * in[3];
}

namespace ops {

void expectRank(const Node& n, const Shape& s, size_t rank) {
  if (s.size() != rank)
    throw Error(n.name, "expects a rank-" + std::to_string(rank) + " input, got " + shapeToString(s));
}

std::vector<int64_t> windowAttr(const Node& n, const char* name, std::vector<int64_t> fallback, int64_t min) {
  std::vector<int64_t> v = n.attrs.getInts(name, std::move(fallback));
  // 2^20: far beyond any real window, small enough that sums and products of a few of
  // them (output-size formulas, kernel extents) stay far from int64 overflow.
  constexpr int64_t kMax = int64_t(1) << 20;
  bool ok = v.size() == 2;
  for (int64_t x : v) ok = ok && x >= min && x <= kMax;
  if (!ok) {
    std::string got = "[";
    for (size_t i = 0; i < v.size(); ++i) got += (i ? ", " : "") + std::to_string(v[i]);
    throw Error(n.name, std::string("attribute '") + name + "' must be two integers in [" + std::to_string(min) + ", " +
                            std::to_string(kMax) + "], got " + got + "]");
  }
  return v;
}

std::vector<Shape> sameShapeAsInput(const Node& n, const std::vector<Shape>& in) { return {in.at(0)}; }

std::optional<double> constantPassesThrough(const ConstantQuery& q) { return q.input(0, q.channel); }

}  // namespace ops
}  // namespace prunelab
