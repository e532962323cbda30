#include "io/torch_zip.h"

#include <caffe2/serialize/inline_container.h>
#include <zlib.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "io/zip_reader.h"
#include "util/error.h"

namespace prunelab {

bool looksLikeZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[4] = {};
  return in.read(b, 4) && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

namespace {

// LibTorch 1.13's caffe2/serialize/versions.h: kMin/kMaxSupportedFileFormatVersion. A
// newer number means a layout this reader was not written for.
constexpr uint64_t kMinVersion = 1, kMaxVersion = 10;

}  // namespace

TorchZipReader::TorchZipReader(const std::string& path) : m_path(path) {
  if (!std::ifstream(path, std::ios::binary)) throw Error(path, "cannot open file");
  if (!looksLikeZip(path)) throw Error(path, "not a zip archive");
  m_zip = std::make_unique<ZipReader>(path);
  const auto& entries = m_zip->entries();
  if (entries.empty()) throw Error(path, "zip archive holds no files");
  const size_t slash = entries.front().name.find('/');
  if (slash == std::string::npos) throw Error(path, "zip archive's files are not in a folder (not a PyTorch archive)");
  m_prefix = entries.front().name.substr(0, slash + 1);
  const ZipReader::Entry* version = m_zip->find(m_prefix + ".data/version");
  if (!version) version = m_zip->find(m_prefix + "version");
  if (!version) throw Error(path, "zip archive has no version record (not a PyTorch archive)");
  if (version->size > 64) throw Error(path, "unreadable version record");
  const std::string text = m_zip->read(*version);
  uint64_t v = 0;
  try {
    v = std::stoull(text);  // as LibTorch reads it
  } catch (const std::exception&) {
    throw Error(path, "version record '" + text + "' is not a number");
  }
  if (v < kMinVersion || v > kMaxVersion)
    throw Error(path, "archive format version " + std::to_string(v) + " is not one LibTorch 1.13 reads (" +
                          std::to_string(kMinVersion) + ".." + std::to_string(kMaxVersion) + ")");
}

TorchZipReader::~TorchZipReader() = default;

bool TorchZipReader::hasRecord(const std::string& name) const { return m_zip->find(m_prefix + name) != nullptr; }

std::string TorchZipReader::readRecord(const std::string& name) const {
  const ZipReader::Entry* e = m_zip->find(m_prefix + name);
  if (!e) throw Error(m_path, "archive has no record '" + name + "'");
  return m_zip->read(*e);
}

std::vector<std::string> TorchZipReader::records() const {
  std::vector<std::string> names;
  for (const auto& e : m_zip->entries())
    if (e.name.size() > m_prefix.size() && e.name.compare(0, m_prefix.size(), m_prefix) == 0)
      names.push_back(e.name.substr(m_prefix.size()));
  return names;
}

TorchZipWriter::TorchZipWriter(const std::string& path)
    : m_path(path), m_file(std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc)) {
  if (!*m_file) throw Error(path, "cannot open for writing");
  std::ofstream* out = m_file.get();
  // A short write is remembered, not reported to the writer: caffe2's writer throws from
  // its destructor when a write fails after an error, which ends the process ("terminate
  // called"). finish() turns the remembered failure into prunelab::Error.
  bool* failed = &m_failed;
  m_writer = std::make_unique<caffe2::serialize::PyTorchStreamWriter>([out, failed](const void* data, size_t size) -> size_t {
    if (!*failed) {
      out->write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
      if (!*out) *failed = true;
    }
    return size;
  });
}

TorchZipWriter::~TorchZipWriter() = default;

void TorchZipWriter::writeRecord(const std::string& name, const void* data, size_t size) {
  withErrorContext(m_path, [&] { m_writer->writeRecord(name, data, size); });
}

void TorchZipWriter::finish() {
  withErrorContext(m_path, [&] { m_writer->writeEndOfFile(); });
  m_file->flush();
  if (m_failed || !*m_file) throw Error(m_path, std::string("write failed (disk full?): ") + std::strerror(errno));
  m_file->close();
  if (!*m_file) throw Error(m_path, std::string("write failed (disk full?): ") + std::strerror(errno));
}

}  // namespace prunelab
