#pragma once
// Which files the image datasets read: the extensions OpenCV decodes here.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

namespace prunelab {

inline bool isImageFile(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp" || ext == ".tif" ||
         ext == ".tiff";
}

}  // namespace prunelab
