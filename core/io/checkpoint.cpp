#include "io/checkpoint.h"

#include <ATen/ATen.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "io/graph_json.h"
#include "io/json_read.h"
#include "io/torch_zip.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

using nlohmann::json;

namespace {

constexpr const char* kManifest = "prunelab.json";
constexpr const char* kFormat = "prunelab-checkpoint";
constexpr int kVersion = 1;

json describeTensor(const at::Tensor& t, const std::string& record) {
  return {{"record", record}, {"dtype", c10::toString(t.scalar_type())}, {"shape", t.sizes().vec()}};
}

at::ScalarType dtypeFromName(const std::string& name, const std::string& path) {
  for (auto t : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                 at::kByte, at::kBool})
    if (name == c10::toString(t)) return t;
  throw Error(path, "unknown tensor dtype '" + name + "'");
}

at::Tensor readTensor(const CheckpointRecordReader& readRecord, const json& desc, const std::string& path) {
  const std::string record = desc.at("record").get<std::string>();
  const auto shape = jsonInts<int64_t>(desc.at("shape"));
  const at::ScalarType dtype = dtypeFromName(desc.at("dtype").get<std::string>(), path);
  // The shape must account for the record's bytes exactly; checked before allocating so
  // that a lying shape (negative, huge, overflowing) is an error, not an allocation.
  int64_t numel = 0;
  try {
    numel = checkedNumel("record " + record, shape);
  } catch (const Error& e) {
    throw Error(path, e.what());  // "x.plm: record t/0: shape [...] is too large"
  }
  const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(dtype);
  const std::string bytes = readRecord(record);
  if (bytes.size() != expected)
    throw Error(path, "record " + record + " has " + std::to_string(bytes.size()) + " bytes, which does not match " +
                          "its shape " + json(shape).dump() + " of " + c10::toString(dtype));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (expected) std::memcpy(t.data_ptr(), bytes.data(), expected);
  return t;
}

}  // namespace

void saveCheckpoint(const std::string& path, const Checkpoint& ck) {
  replaceFileAtomically(path, [&](const std::string& tmp) {
    TorchZipWriter zip(tmp);
    int index = 0;
    auto put = [&](const at::Tensor& tensor, const std::string& record) {
      const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
      zip.writeRecord(record, t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
      return describeTensor(t, record);
    };
    json graph = graphToJson(ck.graph);
    auto& nodes = graph.at("nodes");  // same order as ck.graph.nodes()
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = ck.graph.nodes()[i];
      auto& tensors = nodes[i].at("tensors");
      for (size_t k = 0; k < tensors.size(); ++k)
        tensors[k].update(put(n.tensors[k].tensor, "t/" + std::to_string(index++)));
    }
    json extras = json::object();
    for (const auto& [name, tensor] : ck.extraTensors) extras[name] = put(tensor, "x/" + std::to_string(index++));
    const json manifest = {{"format", kFormat}, {"version", kVersion}, {"graph", graph},
                           {"info", ck.info},   {"extra_tensors", extras}};
    const std::string text = manifest.dump(1);
    zip.writeRecord(kManifest, text.data(), text.size());
    zip.finish();
  });
}

Checkpoint loadCheckpoint(const std::string& path) {
  TorchZipReader zip(path);
  if (!zip.hasRecord(kManifest)) throw Error(path, "not a PruneLab checkpoint (no prunelab.json inside)");
  return checkpointFromManifest(zip.readRecord(kManifest), [&](const std::string& name) { return zip.readRecord(name); },
                                path);
}

Checkpoint checkpointFromManifest(const std::string& manifestText, const CheckpointRecordReader& readRecord,
                                  const std::string& path) {
  json manifest;
  try {
    manifest = json::parse(manifestText);
  } catch (const json::exception& e) {
    throw Error(path, std::string("corrupt checkpoint manifest: ") + e.what());
  }
  // value() throws on anything but an object; a manifest of another JSON type is simply not ours.
  if (!manifest.is_object() || manifest.value("format", "") != kFormat)
    throw Error(path, "not a PruneLab checkpoint");
  int64_t version = 0;
  try {
    version = jsonIntOr<int64_t>(manifest, "version", 0);
  } catch (const json::exception&) {
    throw Error(path, "corrupt checkpoint manifest: 'version' is not an integer");
  }
  if (version > kVersion)
    throw Error(path, "written by a newer PruneLab (format version " + std::to_string(version) + ")");
  Checkpoint ck;
  try {
    // withErrorContext: errors about a node (an unknown op kind...) also name the file.
    ck.graph = withErrorContext(path, [&] {
      try {
        return graphFromJson(manifest.at("graph"), [&](const json& t) { return readTensor(readRecord, t, path); }, path);
      } catch (const json::exception& e) {  // before withErrorContext turns it into a plain error
        throw Error(path, std::string("corrupt checkpoint manifest: ") + e.what());
      }
    });
    ck.info = manifest.value("info", std::map<std::string, std::string>{});
    const json extras = manifest.value("extra_tensors", json::object());
    for (const auto& [name, desc] : extras.items()) ck.extraTensors[name] = readTensor(readRecord, desc, path);
  } catch (const json::exception& e) {
    throw Error(path, std::string("corrupt checkpoint manifest: ") + e.what());
  }
  return ck;
}

bool isCheckpointFile(const std::string& path) {
  if (!looksLikeZip(path)) return false;
  try {
    return TorchZipReader(path).hasRecord(kManifest);
  } catch (const Error&) {
    return false;
  }
}

}  // namespace prunelab
