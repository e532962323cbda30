#include "io/torch_zip.h"

#include <caffe2/serialize/inline_container.h>

#include <fstream>

#include "io/zip_directory.h"
#include "util/error.h"

namespace prunelab {

bool looksLikeZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[4] = {};
  return in.read(b, 4) && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

TorchZipReader::TorchZipReader(const std::string& path) : m_path(path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(path, "cannot open file");
  if (!looksLikeZip(path)) throw Error(path, "not a zip archive");
  checkTorchArchive(path);  // refuses what LibTorch's reader would leak on (io/zip_directory.h)
  withErrorContext(path, [&] { m_reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path); });
}

TorchZipReader::~TorchZipReader() = default;

bool TorchZipReader::hasRecord(const std::string& name) const { return m_reader->hasRecord(name); }

std::string TorchZipReader::readRecord(const std::string& name) const {
  return withErrorContext(m_path, [&] {
    if (!m_reader->hasRecord(name)) throw Error(m_path, "archive has no record '" + name + "'");
    auto [ptr, size] = m_reader->getRecord(name);
    return std::string(static_cast<const char*>(ptr.get()), size);
  });
}

std::vector<std::string> TorchZipReader::records() const { return m_reader->getAllRecords(); }

TorchZipWriter::TorchZipWriter(const std::string& path)
    : m_path(path), m_file(std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc)) {
  if (!*m_file) throw Error(path, "cannot open for writing");
  std::ofstream* out = m_file.get();
  m_writer = std::make_unique<caffe2::serialize::PyTorchStreamWriter>([out](const void* data, size_t size) -> size_t {
    out->write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return *out ? size : 0;
  });
}

TorchZipWriter::~TorchZipWriter() = default;

void TorchZipWriter::writeRecord(const std::string& name, const void* data, size_t size) {
  withErrorContext(m_path, [&] { m_writer->writeRecord(name, data, size); });
}

void TorchZipWriter::finish() {
  withErrorContext(m_path, [&] { m_writer->writeEndOfFile(); });
  m_file->flush();
  if (!*m_file) throw Error(m_path, "write failed (disk full?)");
  m_file->close();
}

}  // namespace prunelab
