#pragma once
// YOLO label files as ultralytics reads them (ultralytics/data/utils.py verify_image_label):
// one object per line, either a box "class cx cy w h" or a segment (polygon)
// "class x1 y1 x2 y2 x3 y3 ..." with at least 3 points, which becomes its bounding box.
// Coordinates are normalised to [0, 1].
//
// Contract
// - parseYoloLabels never throws for the file's content: the first bad line (field count,
//   not a finite number, class not an integer in [0, nc), a coordinate outside [0, 1]
//   beyond kLabelTolerance, a negative or zero width or height) makes the whole file
//   "bad", as in ultralytics, which then leaves the image out; `problem` says where and what.
//   A path that is a directory or another non-regular file is bad too (not a background).
// - Exact duplicate rows (same class and coordinates) are dropped and counted.
// - Boxes are clipped to the image; a box left with zero width or height by the clipping
//   (one lying along the border) is dropped.
// - An empty file (or only blank lines) is a background image: no boxes, `empty` set.

#include <istream>
#include <string>
#include <vector>

namespace prunelab {

struct BoxLabel {
  int cls = 0;
  float cx = 0, cy = 0, w = 0, h = 0;  // normalised to the image size
};

// Exporters round, so a coordinate a little past the border is clipped, not rejected.
constexpr double kLabelTolerance = 1e-3;

// Objects one image may have. The losses' box-to-anchor matrices grow with it (200k
// boxes took 11 GB); real datasets stay in the hundreds (COCO's most crowded image: ~90).
// A label file with more object lines (duplicates included: they still cost parsing) is a
// bad label file: its image is skipped.
constexpr size_t kMaxBoxesPerImage = 5000;

struct ParsedLabels {
  std::vector<BoxLabel> boxes;
  std::string problem;    // "FILE:LINE: what is wrong" (or "FILE: ..."); empty when the file is good
  int line = 0;           // the bad line (1-based); 0 for a file that cannot be read
  std::string reason;     // what is wrong with it
  size_t duplicates = 0;  // duplicate rows dropped
  size_t polygons = 0;    // segment lines turned into boxes
  bool empty = false;     // no object lines at all
  bool ok() const { return problem.empty(); }
};

ParsedLabels parseYoloLabels(const std::string& path, int numClasses);
// The same over a stream holding the file's text; `path` names it in `problem`.
ParsedLabels parseYoloLabels(std::istream& in, const std::string& path, int numClasses);

// The strict form: throws prunelab::Error naming `path` and the line when the file is bad.
std::vector<BoxLabel> readYoloLabels(const std::string& path, int numClasses);

// What opening one split found in its label files, in ultralytics' terms (its
// "Scanning ... N images, M backgrounds, K corrupt" line), plus PruneLab's counts.
struct LabelCheck {
  size_t images = 0;      // images kept in the split
  size_t found = 0;       // label files read (kept images)
  size_t missing = 0;     // images without a label file: backgrounds
  size_t empty = 0;       // empty label files: backgrounds
  size_t skipped = 0;     // images left out: a bad label line, an unreadable file, a listed image missing
  size_t duplicates = 0;  // duplicate boxes dropped
  size_t polygons = 0;    // segment labels turned into boxes
  std::vector<std::string> warnings;  // one per skipped image: "FILE:LINE: problem"

  // "train: 120 images, 100 label files, 20 backgrounds (17 missing, 3 empty), 2 skipped
  // for bad labels, 4 duplicate boxes dropped, 5 polygons as boxes".
  std::string summary(const std::string& split) const;
};

}  // namespace prunelab
