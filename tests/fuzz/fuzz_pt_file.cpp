// A whole .pt file (torch.save's zip: caffe2's reader, data.pkl, storage records) as the
// CLI opens it: as a state_dict and as a yolov5/ultralytics checkpoint.

#include "fuzz_targets.h"
#include "io/state_dict.h"
#include "io/yolo_pt_checkpoint.h"

using namespace prunelab;

int fuzz::fuzz_pt_file(const uint8_t* data, size_t size) {
  const std::string path = fuzz::writeScratch("fuzz.pt", fuzz::bytesOf(data, size));
  fuzz::parsesOrNamesFile(path, [&] { readTorchStateDict(path); });
  fuzz::parsesOrNamesFile(path, [&] { readYoloPtCheckpoint(path); });
  return 0;
}
