#pragma once
// Reading and writing PyTorch's zip container (torch.save since 1.6, TorchScript and
// our native checkpoints), with errors that name the file. Reading is PruneLab's own
// (io/zip_reader.h says why not LibTorch's); writing is caffe2::serialize's writer.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace caffe2::serialize {
class PyTorchStreamWriter;
}  // namespace caffe2::serialize

namespace prunelab {

class ZipReader;

// Records are named as torch.save names them, without the archive's top folder
// ("archive/data.pkl" -> "data.pkl"); the folder is the first record's, as LibTorch takes it.
class TorchZipReader {
 public:
  // Throws prunelab::Error naming `path` if it is missing, not a zip archive, damaged, or
  // not a PyTorch archive (no top folder, no readable version record in the range
  // LibTorch 1.13 writes and reads).
  explicit TorchZipReader(const std::string& path);
  ~TorchZipReader();

  bool hasRecord(const std::string& name) const;
  // The record's bytes, checked against the CRC-32 the central directory records for it
  // (a flipped byte would otherwise load as a wrong weight). Throws prunelab::Error naming
  // the file and the record when it is missing, damaged or does not match.
  std::string readRecord(const std::string& name) const;
  std::vector<std::string> records() const;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  std::string m_prefix;              // "archive/"
  std::unique_ptr<ZipReader> m_zip;  // reading moves its file position: not const
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
