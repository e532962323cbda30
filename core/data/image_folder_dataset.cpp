#include "data/image_folder_dataset.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/image_files.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

ImageFolderDataset::ImageFolderDataset(const std::string& root, int size, bool grayscale,
                                       const std::vector<std::string>& classNames)
    : m_root(root), m_size(size), m_grayscale(grayscale) {
  if (!fs::is_directory(root)) throw Error(root, "is not a directory");
  if (classNames.empty()) {
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory()) m_classes.push_back(e.path().filename().string());
    std::sort(m_classes.begin(), m_classes.end());
  } else {
    m_classes = classNames;  // the val split uses the train split's classes
  }
  if (m_classes.empty()) throw Error(root, "has no class folders (expected root/<class>/<images>)");
  for (size_t c = 0; c < m_classes.size(); ++c) {
    const fs::path dir = fs::path(root) / m_classes[c];
    if (!fs::is_directory(dir)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && isImageFile(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      m_files.push_back(std::move(f));
      m_labels.push_back(static_cast<int64_t>(c));
    }
  }
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && std::find(m_classes.begin(), m_classes.end(), e.path().filename().string()) == m_classes.end())
      throw Error(e.path().string(), "class folder not present in the training split");
  if (m_files.empty()) throw Error(root, "contains no images (.png, .jpg, .bmp, .webp, .tif)");
}

ImageU8 ImageFolderDataset::image(size_t index) const {
  const std::string& path = m_files.at(index);
  cv::Mat m = cv::imread(path, m_grayscale ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (m.empty()) throw Error(path, "cannot decode image");
  if (!m_grayscale) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m_size > 0 && (m.rows != m_size || m.cols != m_size))
    cv::resize(m, m, cv::Size(m_size, m_size), 0, 0, cv::INTER_AREA);
  ImageU8 img;
  img.height = m.rows;
  img.width = m.cols;
  img.channels = m.channels();
  img.pixels.assign(m.data, m.data + m.total() * m.elemSize());
  return img;
}

}  // namespace prunelab
