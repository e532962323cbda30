#include "data/detection/yolo_labels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab {

namespace {

std::string fmt(double v) { return numberText(v); }

// One object line: a box or a polygon's bounding box, as (cls, cx, cy, w, h) before
// clipping. Returns the problem ("" when the line is good).
std::string parseLine(const std::string& line, int numClasses, std::array<double, 5>& row, bool& polygon) {
  std::istringstream ss(line);
  std::vector<double> v;
  for (std::string tok; ss >> tok;) {
    const std::optional<double> x = parseNumber(tok);
    if (!x) return "'" + tok + "' is not a number";  // nan and inf included
    v.push_back(*x);
  }
  const size_t n = v.size();
  polygon = n >= 7 && (n - 1) % 2 == 0;
  if (n != 5 && !polygon)
    return "expected 5 fields (class cx cy w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...), found " +
           std::to_string(n) + " fields";
  const double cls = v[0];
  if (cls != std::floor(cls)) return "class " + fmt(cls) + " is not an integer";
  if (cls < 0 || cls >= numClasses)
    return "class " + fmt(cls) + " is out of range [0, " + std::to_string(numClasses) + ")";
  const double tol = kLabelTolerance;
  if (polygon) {
    double x1 = 1e9, y1 = 1e9, x2 = -1e9, y2 = -1e9;
    for (size_t k = 1; k < n; ++k)
      if (v[k] < -tol || v[k] > 1.0 + tol)
        return "polygon coordinate " + fmt(v[k]) + " is outside [0, 1] (labels must be normalised)";
    for (size_t k = 1; k + 1 < n; k += 2) {
      x1 = std::min(x1, v[k]);
      x2 = std::max(x2, v[k]);
      y1 = std::min(y1, v[k + 1]);
      y2 = std::max(y2, v[k + 1]);
    }
    row = {cls, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1};
    return "";
  }
  if (v[3] < 0 || v[4] < 0) return "negative box size (w " + fmt(v[3]) + ", h " + fmt(v[4]) + ")";
  // A box without area has no pixels to learn from and no IoU with anything: a labelling
  // slip (a click without a drag), not an object.
  if (v[3] == 0 || v[4] == 0) return "box of zero width or height (w " + fmt(v[3]) + ", h " + fmt(v[4]) + ")";
  for (int k = 1; k < 5; ++k)
    if (v[size_t(k)] < -tol || v[size_t(k)] > 1.0 + tol)
      return "coordinate " + fmt(v[size_t(k)]) + " is outside [0, 1] (labels must be normalised)";
  row = {cls, v[1], v[2], v[3], v[4]};
  return "";
}

}  // namespace

ParsedLabels parseYoloLabels(const std::string& path, int numClasses) {
  // A directory opens as an empty stream, which read as a background image.
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  const bool regular = std::filesystem::is_regular_file(st);
  std::ifstream in;
  if (regular) in.open(path);
  if (!regular || !in.is_open()) {
    ParsedLabels out;
    out.reason = std::filesystem::is_directory(st) ? "is a directory, not a label file"
                 : std::filesystem::exists(st)     ? "is not a regular file (a label file is a text file)"
                                                   : "cannot read label file";
    out.problem = path + ": " + out.reason;
    return out;
  }
  return parseYoloLabels(in, path, numClasses);
}

ParsedLabels parseYoloLabels(std::istream& in, const std::string& path, int numClasses) {
  ParsedLabels out;
  // ultralytics compares whole rows as float32 (np.unique over the label array).
  std::set<std::array<float, 5>> seen;
  std::string line;
  size_t objectLines = 0;
  for (int lineNo = 1; std::getline(in, line); ++lineNo) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (++objectLines > kMaxBoxesPerImage) {
      out.line = lineNo;
      out.reason = "more than " + std::to_string(kMaxBoxesPerImage) + " objects in one image";
      out.problem = path + ":" + std::to_string(lineNo) + ": " + out.reason;
      out.boxes.clear();
      return out;
    }
    std::array<double, 5> row{};
    bool polygon = false;
    const std::string problem = parseLine(line, numClasses, row, polygon);
    if (!problem.empty()) {
      out.line = lineNo;
      out.reason = problem;
      out.problem = path + ":" + std::to_string(lineNo) + ": " + problem;
      out.boxes.clear();
      return out;
    }
    out.polygons += polygon ? 1 : 0;
    const std::array<float, 5> key = {float(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4])};
    if (!seen.insert(key).second) {
      ++out.duplicates;
      continue;
    }
    // Clip to the image, keeping centre/size form.
    const double x1 = std::clamp(row[1] - row[3] / 2, 0.0, 1.0), x2 = std::clamp(row[1] + row[3] / 2, 0.0, 1.0);
    const double y1 = std::clamp(row[2] - row[4] / 2, 0.0, 1.0), y2 = std::clamp(row[2] + row[4] / 2, 0.0, 1.0);
    BoxLabel b;
    b.cls = static_cast<int>(row[0]);
    b.cx = static_cast<float>((x1 + x2) / 2);
    b.cy = static_cast<float>((y1 + y2) / 2);
    b.w = static_cast<float>(x2 - x1);
    b.h = static_cast<float>(y2 - y1);
    if (b.w > 0 && b.h > 0) out.boxes.push_back(b);
  }
  out.empty = seen.empty();
  return out;
}

std::vector<BoxLabel> readYoloLabels(const std::string& path, int numClasses) {
  ParsedLabels p = parseYoloLabels(path, numClasses);
  if (!p.ok()) throw Error(path, p.line ? "line " + std::to_string(p.line) + ": " + p.reason : p.reason);
  return std::move(p.boxes);
}

std::string LabelCheck::summary(const std::string& split) const {
  std::ostringstream s;
  s << split << ": " << images << " images, " << found << " label files, " << (missing + empty) << " backgrounds ("
    << missing << " missing, " << empty << " empty)";
  if (skipped) s << ", " << skipped << " skipped for bad labels";
  if (duplicates) s << ", " << duplicates << " duplicate boxes dropped";
  if (polygons) s << ", " << polygons << " polygons as boxes";
  return s.str();
}

}  // namespace prunelab
