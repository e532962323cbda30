#include "io/zip_reader.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <limits>

#include "util/error.h"

namespace prunelab {

namespace {

uint64_t le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(b[at + size_t(i)])) << (8 * i);
  return v;
}

constexpr uint64_t kEndSignature = 0x06054b50, kZip64LocatorSignature = 0x07064b50,
                   kZip64EndSignature = 0x06064b50, kEntrySignature = 0x02014b50, kLocalSignature = 0x04034b50;

// zlib's crc32 takes a uInt length: fed in chunks.
uint32_t crcOf(const std::string& bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (size_t at = 0; at < bytes.size(); at += 1u << 30) {
    const size_t n = std::min<size_t>(bytes.size() - at, 1u << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

// Raw deflate (zip method 8) into exactly `size` bytes; false when the stream is damaged
// or does not hold exactly that many bytes.
bool inflateRaw(const std::string& in, uint64_t size, std::string& out) {
  out.assign(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), std::numeric_limits<uInt>::max()));
  size_t inDone = 0, outDone = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.avail_in == 0 && inDone < in.size()) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + inDone));
      z.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - inDone, std::numeric_limits<uInt>::max()));
    }
    const size_t room = std::min<size_t>(out.size() - outDone, std::numeric_limits<uInt>::max());
    z.next_out = reinterpret_cast<Bytef*>(out.data() + outDone);
    z.avail_out = static_cast<uInt>(room);
    const uInt availIn = z.avail_in;
    rc = inflate(&z, Z_NO_FLUSH);
    inDone += availIn - z.avail_in;
    outDone += room - z.avail_out;
    if (rc == Z_OK && room == z.avail_out && availIn == z.avail_in) rc = Z_BUF_ERROR;  // no progress
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && outDone == size;
}

}  // namespace

std::string ZipReader::readAt(uint64_t at, uint64_t n, const char* what) {
  if (at > m_size || n > m_size - at) throw Error(m_path, std::string("damaged zip archive: ") + what + " lies past the end of the file");
  std::string b(n, '\0');
  m_in.clear();
  m_in.seekg(static_cast<std::streamoff>(at));
  if (!m_in.read(b.data(), static_cast<std::streamsize>(n))) throw Error(m_path, std::string("cannot read ") + what);
  return b;
}

ZipReader::ZipReader(const std::string& path) : m_path(path), m_in(path, std::ios::binary) {
  if (!m_in) throw Error(path, "cannot open file");
  m_in.seekg(0, std::ios::end);
  m_size = m_in ? static_cast<uint64_t>(m_in.tellg()) : 0;
  if (m_size < 22) throw Error(path, "not a zip archive (too short)");
  // End of central directory: the last signature within the final 64 KiB comment + 22 bytes.
  const uint64_t tailSize = std::min<uint64_t>(m_size, 65535 + 22);
  const std::string tail = readAt(m_size - tailSize, tailSize, "the end of central directory");
  uint64_t eocd = tailSize;
  for (uint64_t i = tailSize - 22 + 1; i-- > 0;)
    if (le(tail, i, 4) == kEndSignature) {
      eocd = i;
      break;
    }
  if (eocd == tailSize) throw Error(path, "not a zip archive (no end of central directory)");
  uint64_t count = le(tail, eocd + 10, 2), cdSize = le(tail, eocd + 12, 4), cdOffset = le(tail, eocd + 16, 4);
  const uint64_t eocdAt = m_size - tailSize + eocd;
  if (eocdAt >= 20) {
    // Zip64: a locator just before the end record points to the record with 64-bit values.
    const std::string loc = readAt(eocdAt - 20, 20, "the zip64 locator");
    if (le(loc, 0, 4) == kZip64LocatorSignature) {
      const std::string rec = readAt(le(loc, 8, 8), 56, "the zip64 end of central directory");
      if (le(rec, 0, 4) != kZip64EndSignature) throw Error(path, "damaged zip archive: bad zip64 end of central directory");
      count = le(rec, 32, 8), cdSize = le(rec, 40, 8), cdOffset = le(rec, 48, 8);
    }
  }
  if (count > cdSize / 46) throw Error(path, "damaged zip archive: the directory cannot hold " + std::to_string(count) + " records");
  const std::string cd = readAt(cdOffset, cdSize, "the central directory");
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > cd.size() || le(cd, at, 4) != kEntrySignature)
      throw Error(path, "damaged zip archive: bad central directory entry " + std::to_string(i));
    Entry e;
    e.flags = le(cd, at + 8, 2);
    e.method = le(cd, at + 10, 2);
    e.crc = le(cd, at + 16, 4);
    e.compressed = le(cd, at + 20, 4);
    e.size = le(cd, at + 24, 4);
    e.offset = le(cd, at + 42, 4);
    const size_t nameLen = le(cd, at + 28, 2), extraLen = le(cd, at + 30, 2), commentLen = le(cd, at + 32, 2);
    if (at + 46 + nameLen + extraLen + commentLen > cd.size())
      throw Error(path, "damaged zip archive: bad central directory entry " + std::to_string(i));
    e.name = cd.substr(at + 46, nameLen);
    // Zip64 extra field: the 8-byte values of the fields marked 0xffffffff, in this order.
    const size_t extraEnd = at + 46 + nameLen + extraLen;
    for (size_t x = at + 46 + nameLen; x + 4 <= extraEnd;) {
      const size_t id = le(cd, x, 2), len = le(cd, x + 2, 2);
      if (x + 4 + len > extraEnd) break;
      if (id == 1) {
        size_t f = x + 4;
        for (uint64_t* v : {&e.size, &e.compressed, &e.offset})
          if (*v == 0xffffffff && f + 8 <= x + 4 + len) *v = le(cd, f, 8), f += 8;
      }
      x += 4 + len;
    }
    if (!m_index.emplace(e.name, m_entries.size()).second) throw Error(path, "damaged zip archive: two records are named '" + e.name + "'");
    m_entries.push_back(std::move(e));
    at += 46 + nameLen + extraLen + commentLen;
  }
}

const ZipReader::Entry* ZipReader::find(const std::string& name) const {
  const auto it = m_index.find(name);
  return it == m_index.end() ? nullptr : &m_entries[it->second];
}

uint64_t ZipReader::recordLimit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return kMaxRecordBytes;  // unknown: the fixed bound alone
  return std::min(kMaxRecordBytes, uint64_t(pages) * uint64_t(pageSize) / 2);
}

std::string ZipReader::read(const Entry& e) {
  const std::string what = "record '" + e.name + "'";
  if (e.flags & (0x01 | 0x40)) throw Error(m_path, what + " is encrypted");
  if (e.method != 0 && e.method != 8)
    throw Error(m_path, what + " is compressed with zip method " + std::to_string(e.method) + " (PruneLab reads stored and deflated records)");
  if (e.size > recordLimit())
    throw Error(m_path, what + " claims " + std::to_string(e.size) + " bytes, more than half of this machine's memory (" +
                            std::to_string(recordLimit()) + " bytes may be read): the archive is damaged or a zip bomb");
  const std::string local = readAt(e.offset, 30, ("the local header of " + what).c_str());
  if (le(local, 0, 4) != kLocalSignature) throw Error(m_path, "damaged zip archive: bad local header of " + what);
  const uint64_t dataAt = e.offset + 30 + le(local, 26, 2) + le(local, 28, 2);
  std::string bytes;
  if (e.method == 0) {
    if (e.compressed != e.size) throw Error(m_path, "damaged zip archive: stored " + what + " has two sizes");
    bytes = readAt(dataAt, e.size, what.c_str());
  } else {
    if (e.size > kMaxRecordBytes || e.size > e.compressed * 1032 + 1024)
      throw Error(m_path, "damaged zip archive: " + what + " claims " + std::to_string(e.size) + " bytes from " +
                              std::to_string(e.compressed) + " compressed");
    const std::string packed = readAt(dataAt, e.compressed, what.c_str());
    if (!inflateRaw(packed, e.size, bytes)) throw Error(m_path, what + " is corrupt (its deflate stream is damaged)");
  }
  if (crcOf(bytes) != e.crc)
    throw Error(m_path, what + " is corrupt (its CRC-32 does not match the archive's): the file is damaged");
  return bytes;
}

}  // namespace prunelab
