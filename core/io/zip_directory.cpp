#include "io/zip_directory.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <optional>
#include <vector>

#include "util/error.h"

namespace prunelab {

namespace {

// LibTorch 1.13's caffe2/serialize/versions.h: kMin/kMaxSupportedFileFormatVersion.
constexpr uint64_t kMinVersion = 1, kMaxVersion = 10;

uint64_t le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(b[at + size_t(i)])) << (8 * i);
  return v;
}

struct Entry {
  std::string name;
  uint64_t method = 0, crc = 0, compressed = 0, size = 0, offset = 0;
};

class ZipFile {
 public:
  explicit ZipFile(const std::string& path) : m_in(path, std::ios::binary) {
    m_in.seekg(0, std::ios::end);
    m_size = m_in ? static_cast<uint64_t>(m_in.tellg()) : 0;
  }
  // `n` bytes at `at`, or nullopt past the end.
  std::optional<std::string> read(uint64_t at, uint64_t n) {
    if (at > m_size || n > m_size - at) return std::nullopt;
    std::string b(n, '\0');
    m_in.clear();
    m_in.seekg(static_cast<std::streamoff>(at));
    if (!m_in.read(b.data(), static_cast<std::streamsize>(n))) return std::nullopt;
    return b;
  }
  uint64_t size() const { return m_size; }

  // The central directory, in its order; nullopt when it cannot be read as a zip's.
  std::optional<std::vector<Entry>> directory() {
    // End of central directory: the last signature within the final 64 KiB + 22 bytes.
    if (m_size < 22) return std::nullopt;
    const uint64_t tailSize = std::min<uint64_t>(m_size, 65535 + 22);
    const auto tail = read(m_size - tailSize, tailSize);
    if (!tail) return std::nullopt;
    std::optional<uint64_t> eocd;
    for (uint64_t i = tailSize - 22 + 1; i-- > 0;)
      if (le(*tail, i, 4) == 0x06054b50) {
        eocd = i;
        break;
      }
    if (!eocd) return std::nullopt;
    uint64_t count = le(*tail, *eocd + 10, 2), cdSize = le(*tail, *eocd + 12, 4), cdOffset = le(*tail, *eocd + 16, 4);
    const uint64_t eocdAt = m_size - tailSize + *eocd;
    if ((count == 0xffff || cdSize == 0xffffffff || cdOffset == 0xffffffff) && eocdAt >= 20) {
      // Zip64: the locator just before points to the zip64 record holding the real values.
      const auto loc = read(eocdAt - 20, 20);
      if (!loc || le(*loc, 0, 4) != 0x07064b50) return std::nullopt;
      const auto rec = read(le(*loc, 8, 8), 56);
      if (!rec || le(*rec, 0, 4) != 0x06064b50) return std::nullopt;
      count = le(*rec, 32, 8), cdSize = le(*rec, 40, 8), cdOffset = le(*rec, 48, 8);
    }
    if (count > cdSize / 46) return std::nullopt;
    const auto cd = read(cdOffset, cdSize);
    if (!cd) return std::nullopt;
    std::vector<Entry> entries;
    size_t at = 0;
    for (uint64_t i = 0; i < count; ++i) {
      if (at + 46 > cd->size() || le(*cd, at, 4) != 0x02014b50) return std::nullopt;
      Entry e;
      e.method = le(*cd, at + 10, 2);
      e.crc = le(*cd, at + 16, 4);
      e.compressed = le(*cd, at + 20, 4);
      e.size = le(*cd, at + 24, 4);
      e.offset = le(*cd, at + 42, 4);
      const size_t nameLen = le(*cd, at + 28, 2), extraLen = le(*cd, at + 30, 2), commentLen = le(*cd, at + 32, 2);
      if (at + 46 + nameLen + extraLen + commentLen > cd->size()) return std::nullopt;
      e.name = cd->substr(at + 46, nameLen);
      // Zip64 extra field: the 8-byte values of the fields marked 0xffffffff, in order.
      for (size_t x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen;) {
        const size_t id = le(*cd, x, 2), len = le(*cd, x + 2, 2);
        if (x + 4 + len > at + 46 + nameLen + extraLen) break;
        if (id == 1) {
          size_t f = x + 4;
          for (uint64_t* v : {&e.size, &e.compressed, &e.offset})
            if (*v == 0xffffffff && f + 8 <= x + 4 + len) *v = le(*cd, f, 8), f += 8;
        }
        x += 4 + len;
      }
      entries.push_back(std::move(e));
      at += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  }

 private:
  std::ifstream m_in;
  uint64_t m_size = 0;
};

bool sameName(const std::string& a, const std::string& b) {  // the zip library's lookup ignores case
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void checkTorchArchive(const std::string& path) {
  ZipFile zip(path);
  const auto entries = zip.directory();
  // The zip library is more lenient than this reader (it read a directory whose offset
  // points past the end of the file, then failed on a record and leaked): what this reader
  // cannot follow is refused here. torch.save and PruneLab write plain archives it reads.
  if (!entries) throw Error(path, "zip archive's central directory is unreadable (truncated or corrupt file)");
  if (entries->empty()) throw Error(path, "zip archive holds no files");
  const std::string& first = entries->front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos) throw Error(path, "zip archive's files are not in a folder (not a PyTorch archive)");
  const std::string prefix = first.substr(0, slash + 1);
  const Entry* version = nullptr;
  for (const char* name : {".data/version", "version"}) {
    for (const Entry& e : *entries)
      if (sameName(e.name, prefix + name)) {
        version = &e;
        break;
      }
    if (version) break;
  }
  if (!version) throw Error(path, "zip archive has no version record (not a PyTorch archive)");
  // PyTorch writes records uncompressed; the local header says where the bytes start.
  const auto local = zip.read(version->offset, 30);
  if (version->method != 0 || version->compressed != version->size || version->size > 64 || !local ||
      le(*local, 0, 4) != 0x04034b50)
    throw Error(path, "unreadable version record");
  const auto text = zip.read(version->offset + 30 + le(*local, 26, 2) + le(*local, 28, 2), version->size);
  if (!text || crc32(0, reinterpret_cast<const Bytef*>(text->data()), static_cast<uInt>(text->size())) != version->crc)
    throw Error(path, "unreadable version record (corrupt data)");
  uint64_t v = 0;
  try {
    v = std::stoull(*text);  // as LibTorch reads it
  } catch (const std::exception&) {
    throw Error(path, "version record '" + *text + "' is not a number");
  }
  if (v < kMinVersion || v > kMaxVersion)
    throw Error(path, "archive format version " + std::to_string(v) + " is not one LibTorch 1.13 reads (" +
                          std::to_string(kMinVersion) + ".." + std::to_string(kMaxVersion) + ")");
}

}  // namespace prunelab
