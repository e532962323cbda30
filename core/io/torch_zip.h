#pragma once
// Reading and writing PyTorch's zip container (torch.save since 1.6, TorchScript and
// our native checkpoints), over caffe2::serialize's reader/writer, with errors that
// name the file.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace caffe2::serialize {
class PyTorchStreamReader;
class PyTorchStreamWriter;
}  // namespace caffe2::serialize

namespace prunelab {

class TorchZipReader {
 public:
  // Throws prunelab::Error naming `path` if it is missing or not a zip archive.
  explicit TorchZipReader(const std::string& path);
  ~TorchZipReader();

  bool hasRecord(const std::string& name) const;  // name without the archive prefix
  // The record's bytes, checked against the CRC-32 the central directory records for it
  // (LibTorch's reader does not check it, so a flipped byte would load as a wrong
  // weight). Throws prunelab::Error naming the file and the record when they differ.
  std::string readRecord(const std::string& name) const;
  std::vector<std::string> records() const;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> m_reader;
  std::map<std::string, uint32_t> m_crc;  // record name (without the archive prefix) -> CRC-32
};

// True when the file starts like a zip archive ("PK\x03\x04").
bool looksLikeZip(const std::string& path);

class TorchZipWriter {
 public:
  // Writes to `path` directly (callers use replaceFileAtomically around it). Records
  // are stored under "archive/", as torch.save does, whatever the file is called.
  explicit TorchZipWriter(const std::string& path);
  ~TorchZipWriter();
  void writeRecord(const std::string& name, const void* data, size_t size);
  void finish();

 private:
  std::string m_path;
  std::unique_ptr<std::ofstream> m_file;
  bool m_failed = false;  // a write to m_file failed (disk full, file-size limit)
  std::unique_ptr<caffe2::serialize::PyTorchStreamWriter> m_writer;  // after m_failed: its callback reads it
};

}  // namespace prunelab
