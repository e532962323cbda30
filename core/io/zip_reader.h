#pragma once
// A read-only zip archive, as PyTorch writes them (torch.save since 1.6, TorchScript, our
// .plm checkpoints): the central directory (zip64 included) and each record's bytes,
// stored or deflated, checked against the CRC-32 the directory records.
//
// Why not LibTorch's reader (caffe2::serialize::PyTorchStreamReader over miniz): it leaks
// its zip state whenever one of the checks in its constructor fails after the zip library
// has opened the archive. tests/fuzz/fuzz_pt_file found three such inputs in turn, each
// failing a different check (no version record, a zip64 record that disagrees with the old
// one, an encrypted version record), and mirroring every check in front of it is a race
// that cannot be won. It also checks no CRC and names no file in its errors.
//
// Bounds: records are read only within the file; a deflated record may claim at most
// kMaxRecordBytes and 1032 times its compressed size (deflate's largest ratio), so a
// lying header cannot make the reader allocate what the file cannot hold. Every record
// may also claim at most half of this machine's memory (recordLimit()): its bytes and the
// tensors made from them are in memory together, and a zip bomb well within deflate's
// ratio (a 40 MB record inflating to 40 GiB) otherwise ended in std::bad_alloc.
// Not thread-safe (one std::ifstream); open one reader per thread.

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace prunelab {

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint64_t flags = 0, method = 0, crc = 0, compressed = 0, size = 0, offset = 0;
  };
  static constexpr uint64_t kMaxRecordBytes = uint64_t{1} << 36;  // 64 GB
  // min(kMaxRecordBytes, half the physical memory): the most one record may claim here.
  static uint64_t recordLimit();

  // Reads the central directory. Throws prunelab::Error naming `path` when the file cannot
  // be opened, is not a zip archive, its directory is damaged, or two records share a name.
  explicit ZipReader(const std::string& path);

  const std::string& path() const { return m_path; }
  const std::vector<Entry>& entries() const { return m_entries; }  // in the directory's order
  const Entry* find(const std::string& name) const;                // exact name, or null

  // The record's bytes. Throws prunelab::Error naming the file and the record when it is
  // encrypted, compressed with a method other than store/deflate, outside the file, or
  // does not match its CRC-32.
  std::string read(const Entry& e);

 private:
  std::string readAt(uint64_t at, uint64_t n, const char* what);  // throws past the end

  std::string m_path;
  std::ifstream m_in;
  uint64_t m_size = 0;
  std::vector<Entry> m_entries;
  std::map<std::string, size_t> m_index;  // name -> position in m_entries
};

}  // namespace prunelab
