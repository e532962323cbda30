#pragma once
// One folder per class (root/<class>/<image>), decoded with OpenCV on demand, so
// loader threads share the decoding work. Classes are the sorted folder names.

#include "data/dataset.h"

namespace prunelab {

class ImageFolderDataset : public Dataset {
 public:
  // `size` > 0 resizes every image to size x size (needed to batch differently sized
  // images). `grayscale` decodes one channel. Throws prunelab::Error when `root` has no
  // class folders or no images.
  ImageFolderDataset(const std::string& root, int size, bool grayscale,
                     const std::vector<std::string>& classNames = {});

  size_t size() const override { return m_files.size(); }
  ImageU8 image(size_t index) const override;
  int64_t label(size_t index) const override { return m_labels.at(index); }
  int64_t numClasses() const override { return static_cast<int64_t>(m_classes.size()); }
  std::vector<std::string> classNames() const override { return m_classes; }
  std::string description() const override { return "image folder " + m_root; }

 private:
  std::string m_root;
  int m_size;
  bool m_grayscale;
  std::vector<std::string> m_classes;
  std::vector<std::string> m_files;
  std::vector<int64_t> m_labels;
};

}  // namespace prunelab
