#include "io/torch_zip.h"

#include <caffe2/serialize/inline_container.h>
#include <zlib.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "io/zip_directory.h"
#include "util/error.h"

namespace prunelab {

bool looksLikeZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[4] = {};
  return in.read(b, 4) && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

namespace {

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint64_t le64(const unsigned char* p) { return le32(p) | (uint64_t(le32(p + 4)) << 32); }

// The CRC-32 of every entry, from the zip's central directory (zip64 included), keyed by
// the name after the archive's top folder ("archive/data.pkl" -> "data.pkl").
std::map<std::string, uint32_t> centralDirectoryCrcs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  const int64_t tailSize = std::min<int64_t>(size, 22 + 65535 + 20);
  std::vector<unsigned char> tail(static_cast<size_t>(tailSize));
  in.seekg(size - tailSize);
  in.read(reinterpret_cast<char*>(tail.data()), tailSize);
  int64_t eocd = -1;
  for (int64_t i = tailSize - 22; i >= 0; --i)
    if (le32(&tail[i]) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw Error(path, "damaged zip archive: no end of central directory");
  uint64_t entries = le16(&tail[eocd + 10]);
  uint64_t cdSize = le32(&tail[eocd + 12]);
  uint64_t cdOffset = le32(&tail[eocd + 16]);
  if (eocd >= 20 && le32(&tail[eocd - 20]) == 0x07064b50) {  // zip64 locator -> zip64 record
    const uint64_t recordAt = le64(&tail[eocd - 20 + 8]);
    unsigned char z[56];
    in.seekg(static_cast<std::streamoff>(recordAt));
    if (!in.read(reinterpret_cast<char*>(z), 56) || le32(z) != 0x06064b50)
      throw Error(path, "damaged zip archive: bad zip64 end of central directory");
    entries = le64(z + 32);
    cdSize = le64(z + 40);
    cdOffset = le64(z + 48);
  }
  if (cdOffset + cdSize > static_cast<uint64_t>(size) || entries > cdSize / 46)
    throw Error(path, "damaged zip archive: central directory outside the file");
  std::vector<unsigned char> cd(static_cast<size_t>(cdSize));
  in.seekg(static_cast<std::streamoff>(cdOffset));
  if (!in.read(reinterpret_cast<char*>(cd.data()), static_cast<std::streamsize>(cdSize)))
    throw Error(path, "damaged zip archive: truncated central directory");
  std::map<std::string, uint32_t> crcs;
  size_t at = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > cd.size() || le32(&cd[at]) != 0x02014b50) throw Error(path, "damaged zip archive: bad central directory entry");
    const size_t nameLen = le16(&cd[at + 28]), extraLen = le16(&cd[at + 30]), commentLen = le16(&cd[at + 32]);
    if (at + 46 + nameLen > cd.size()) throw Error(path, "damaged zip archive: bad central directory entry");
    const std::string name(reinterpret_cast<const char*>(&cd[at + 46]), nameLen);
    const auto slash = name.find('/');
    crcs[slash == std::string::npos ? name : name.substr(slash + 1)] = le32(&cd[at + 16]);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return crcs;
}

}  // namespace

TorchZipReader::TorchZipReader(const std::string& path) : m_path(path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(path, "cannot open file");
  if (!looksLikeZip(path)) throw Error(path, "not a zip archive");
  checkTorchArchive(path);  // refuses what LibTorch's reader would leak on (io/zip_directory.h)
  withErrorContext(path, [&] { m_reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path); });
  m_crc = centralDirectoryCrcs(path);
}

TorchZipReader::~TorchZipReader() = default;

bool TorchZipReader::hasRecord(const std::string& name) const { return m_reader->hasRecord(name); }

std::string TorchZipReader::readRecord(const std::string& name) const {
  return withErrorContext(m_path, [&] {
    if (!m_reader->hasRecord(name)) throw Error(m_path, "archive has no record '" + name + "'");
    auto [ptr, size] = m_reader->getRecord(name);
    std::string bytes(static_cast<const char*>(ptr.get()), size);
    const auto crc = m_crc.find(name);
    if (crc == m_crc.end()) throw Error(m_path, "record '" + name + "' is missing from the zip's central directory");
    // zlib's crc32 takes a uInt length: feed it in chunks.
    uLong actual = ::crc32(0L, Z_NULL, 0);
    for (size_t at = 0; at < bytes.size(); at += 1u << 30) {
      const size_t n = std::min<size_t>(bytes.size() - at, 1u << 30);
      actual = ::crc32(actual, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
    }
    if (static_cast<uint32_t>(actual) != crc->second)
      throw Error(m_path, "record '" + name + "' is corrupt (its CRC-32 does not match the archive's): the file is damaged");
    return bytes;
  });
}

std::vector<std::string> TorchZipReader::records() const { return m_reader->getAllRecords(); }

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
