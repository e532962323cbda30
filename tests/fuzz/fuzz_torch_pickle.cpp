// The pickle of a torch.save() file (io/pickle_reader.h through io/torch_pickle.h's
// allow-list and tensor hooks), then what loading makes of the object tree: a state_dict
// (io/state_dict.h) and a yolov5/ultralytics checkpoint (io/yolo_pt_checkpoint.h) built
// into a graph (models/yolo/yolo_checkpoint.h).
//
// The input is data.pkl itself; the storages it refers to ("data/0" .. "data/3") are fixed
// records of 256 bytes, so mutations reach the unpickler and the tensor rebuilders instead
// of dying in the zip layer (fuzz_pt_file covers the file as a whole).

#include "fuzz_targets.h"
#include "io/state_dict.h"
#include "io/torch_pickle.h"
#include "io/yolo_pt_checkpoint.h"
#include "models/yolo/yolo_checkpoint.h"

using namespace prunelab;

int fuzz::fuzz_torch_pickle(const uint8_t* data, size_t size) {
  const std::string subject = "fuzz.pt";
  auto records = [&](const std::string& name) -> std::string {
    for (const char* key : {"data/0", "data/1", "data/2", "data/3"})
      if (name == key) return std::string(256, '\x3c');
    throw Error(subject, "archive has no record '" + name + "'");
  };
  PyRef root;
  if (!fuzz::parsesOrNamesFile(subject, [&] { root = unpickleTorch(fuzz::bytesOf(data, size), records, subject); }))
    return 0;
  fuzz::parsesOrNamesFile(subject, [&] { stateDictFromPickle(root, subject); });
  std::optional<YoloPtCheckpoint> ck;
  if (!fuzz::parsesOrNamesFile(subject, [&] { ck = yoloCheckpointFromPickle(root, subject); }) || !ck) return 0;
  fuzz::runOrError([&] { buildFromYoloCheckpoint(*ck, subject, -1); });
  return 0;
}
