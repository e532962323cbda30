#include "io/onnx_tag.h"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <set>

namespace prunelab {

namespace {

// FNV-1a, 64 bits: a change detector, not a security measure (anyone can rewrite a tag).
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void text(const std::string& s) {
    bytes(s.data(), s.size());
    bytes("\0", 1);  // separator: ("ab","c") != ("a","bc")
  }
  void number(int64_t v) { bytes(&v, sizeof v); }
  void real(double v) { bytes(&v, sizeof v); }
};

void addTensor(Fnv& f, const onnx::TensorProto& t, bool withData) {
  f.number(t.data_type());
  f.number(t.dims_size());
  for (int64_t d : t.dims()) f.number(d);
  if (withData) f.text(t.raw_data());
}

void addAttribute(Fnv& f, const onnx::AttributeProto& a) {
  f.text(a.name());
  f.number(a.type());
  f.real(a.f());
  f.number(a.i());
  f.text(a.s());
  for (float x : a.floats()) f.real(x);
  for (int64_t x : a.ints()) f.number(x);
  for (const auto& s : a.strings()) f.text(s);
  if (a.has_t()) addTensor(f, a.t(), true);
}

}  // namespace

std::string onnxGroupFingerprint(const onnx::GraphProto& gp, int first, int count, const std::vector<std::string>& tagInits) {
  Fnv f;
  std::set<std::string> reads(tagInits.begin(), tagInits.end());
  for (int i = first; i < first + count && i < gp.node_size(); ++i) {
    const onnx::NodeProto& n = gp.node(i);
    f.text(n.op_type());
    f.text(n.domain());
    f.text(n.name());
    f.number(n.input_size());
    for (const auto& in : n.input()) {
      f.text(in);
      reads.insert(in);
    }
    f.number(n.output_size());
    for (const auto& out : n.output()) f.text(out);
    f.number(n.attribute_size());
    for (const auto& a : n.attribute()) addAttribute(f, a);
  }
  // The shapes (not the values: the import reads those from the file anyway) of the
  // initializers the group reads or its tag names, in name order.
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : gp.initializer())
    if (reads.count(t.name())) inits[t.name()] = &t;
  for (const auto& [name, t] : inits) {
    f.text(name);
    addTensor(f, *t, false);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
  return hex;
}

}  // namespace prunelab
