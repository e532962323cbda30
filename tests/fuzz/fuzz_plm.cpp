// Native checkpoints (.plm, io/checkpoint.h), then shape inference and costs as a load does.
// The input is either a whole file (it starts with "PK": the zip layer and everything
// under it) or the prunelab.json manifest alone, so that mutations reach the graph
// description: its tensor records are then made up here, each as large as the manifest
// says (up to 1 MiB; larger or unparseable sizes get 64 bytes, which the loader refuses).

#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "fuzz_targets.h"
#include "io/checkpoint.h"

#include <functional>
#include <map>

using namespace prunelab;

int fuzz::fuzz_plm(const uint8_t* data, size_t size) {
  const std::string bytes = fuzz::bytesOf(data, size);
  Checkpoint ck;
  std::string subject;
  bool ok = false;
  if (bytes.rfind("PK", 0) == 0) {
    subject = fuzz::writeScratch("fuzz.plm", bytes);
    ok = fuzz::parsesOrNamesFile(subject, [&] { ck = loadCheckpoint(subject); });
  } else {
    subject = "manifest.plm";
    std::map<std::string, std::string> held;  // record name -> bytes
    const nlohmann::json manifest = nlohmann::json::parse(bytes, nullptr, false);
    std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& j) {
      if (j.is_object() && j.contains("record") && j["record"].is_string()) {
        uint64_t n = 4;  // at most 8 bytes an element; 4 (float) is the usual
        if (j.contains("dtype") && j["dtype"] == "Double") n = 8;
        bool ok = j.contains("shape") && j["shape"].is_array();
        if (ok)
          for (const auto& d : j["shape"]) ok = ok && d.is_number_unsigned() && !__builtin_mul_overflow(n, d.get<uint64_t>(), &n);
        held[j["record"].get<std::string>()] = std::string(ok && n <= (1u << 20) ? n : 64, '\x3f');
      }
      if (j.is_structured())
        for (const auto& child : j) collect(child);
    };
    if (!manifest.is_discarded()) collect(manifest);
    auto records = [&](const std::string& name) -> std::string {
      auto it = held.find(name);
      if (it == held.end()) throw Error(subject, "archive has no record '" + name + "'");
      return it->second;
    };
    ok = fuzz::parsesOrNamesFile(subject, [&] { ck = checkpointFromManifest(bytes, records, subject); });
  }
  if (!ok) return 0;
  fuzz::runOrError([&] {
    inferShapes(ck.graph, defaultInputShape(ck.graph));
    computeCost(ck.graph);
  });
  return 0;
}
