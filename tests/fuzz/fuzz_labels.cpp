// One YOLO label file (data/detection/yolo_labels.h). The first input byte picks the class
// count (1..256) so that range checks are exercised both ways; the rest is the file.

#include <sstream>

#include "data/detection/yolo_labels.h"
#include "fuzz_targets.h"

using namespace prunelab;

int fuzz::fuzz_labels(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int numClasses = 1 + data[0];
  std::istringstream in(fuzz::bytesOf(data + 1, size - 1));
  // parseYoloLabels never throws for the content: a bad file is reported in `problem`.
  const ParsedLabels p = parseYoloLabels(in, "fuzz.txt", numClasses);
  if (!p.ok() && p.problem.find("fuzz.txt") == std::string::npos) throw std::logic_error("problem does not name the file: " + p.problem);
  for (const BoxLabel& b : p.boxes)
    if (b.cls < 0 || b.cls >= numClasses || !(b.w > 0 && b.h > 0) || b.cx < 0 || b.cx > 1 || b.cy < 0 || b.cy > 1)
      throw std::logic_error("kept box breaks the contract");  // the contract: kept boxes are valid, clipped to the image
  return 0;
}
