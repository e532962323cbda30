#include "util/npy.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/parse_number.h"
#include "util/tensor_limits.h"

namespace prunelab {

namespace {

struct DtypeCode {
  const char* code;
  at::ScalarType type;
};
constexpr DtypeCode kCodes[] = {{"<f4", at::kFloat}, {"<f8", at::kDouble}, {"<i8", at::kLong},
                                {"<i4", at::kInt},   {"|u1", at::kByte},   {"|b1", at::kBool},
                                {"<f2", at::kHalf}};

// "(1, 3, 32, 32)", as numpy prints a shape.
std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

at::Tensor readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open file");
  return readNpy(in, path);
}

at::Tensor readNpy(std::istream& in, const std::string& path) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw Error(path, "not a .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t headerLen = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) throw Error(path, "truncated header");
    headerLen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) throw Error(path, "truncated header");
    headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    throw Error(path, "unsupported .npy version " + std::to_string(major));
  }
  // numpy itself refuses headers above 10000 bytes (max_header_size); the limit also keeps
  // the length field from allocating gigabytes and std::regex (recursive) within its stack.
  constexpr uint32_t kMaxHeader = 10000;
  if (headerLen > kMaxHeader)
    throw Error(path, "header of " + std::to_string(headerLen) + " bytes is longer than " + std::to_string(kMaxHeader));
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen)) throw Error(path, "truncated header");

  // Compiled once: building a std::regex costs more than reading a small array.
  static const std::regex descrRe("'descr':\\s*'([^']+)'"), fortranRe("'fortran_order':\\s*True"),
      shapeRe("'shape':\\s*\\(([^)]*)\\)");
  std::smatch m;
  if (!std::regex_search(header, m, descrRe)) throw Error(path, "header has no descr");
  const std::string descr = m[1];
  if (std::regex_search(header, m, fortranRe))
    throw Error(path, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  if (!std::regex_search(header, m, shapeRe)) throw Error(path, "header has no shape");
  std::vector<int64_t> shape;
  {
    // "(2, 3)", "(5,)", "()": comma-separated integers; a sign or an overflow is a lie.
    std::stringstream dims(m[1].str());
    std::string part;
    while (std::getline(dims, part, ',')) {
      const auto first = part.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      const std::string digits = part.substr(first, part.find_last_not_of(" \tL") - first + 1);
      const auto v = parseInteger(digits);
      if (!v) throw Error(path, "header shape entry '" + digits + "' is not a dimension");
      shape.push_back(*v);
    }
  }
  checkedNumel(path + ": header shape", shape);

  at::ScalarType type = at::kFloat;
  bool known = false;
  for (const auto& c : kCodes)
    if (descr == c.code) type = c.type, known = true;
  if (!known) throw Error(path, "unsupported dtype '" + descr + "' (use float32)");

  // The data must be in the file before anything is allocated for it.
  const auto elementSize = static_cast<std::streamsize>(c10::elementSize(type));
  const std::streamsize bytes = static_cast<std::streamsize>(checkedNumel(path, shape)) * elementSize;
  const std::streamoff dataStart = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff available = in.tellg() - dataStart;
  in.seekg(dataStart);
  if (available < bytes)
    throw Error(path, "file is truncated: the header's shape needs " + std::to_string(bytes) + " bytes of data, the file has " +
                          std::to_string(available));
  // np.save writes exactly the header's shape: more bytes mean the header lies about the
  // array (a shape cut short by hand), and reading the prefix would silently drop the rest.
  if (available > bytes)
    throw Error(path, "holds more data than its header declares: the shape " + shapeText(shape) + " needs " +
                          std::to_string(bytes) + " bytes, the file has " + std::to_string(available));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  if (bytes && !in.read(static_cast<char*>(t.data_ptr()), bytes))
    throw Error(path, "file is truncated: expected " + std::to_string(bytes) + " bytes of data");
  return t;
}

void writeNpy(const std::string& path, const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
  const char* code = nullptr;
  for (const auto& c : kCodes)
    if (c.type == t.scalar_type()) code = c.code;
  if (!code) throw Error(path, std::string("cannot write dtype ") + c10::toString(t.scalar_type()));
  std::string shape;  // Python tuple syntax: "()", "(5,)", "(2, 3)"
  for (int64_t i = 0; i < t.dim(); ++i) shape += (i ? ", " : "") + std::to_string(t.size(i));
  if (t.dim() == 1) shape += ",";
  std::string header = "{'descr': '" + std::string(code) + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad so that the data starts at a multiple of 64 bytes; the header ends with '\n'.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  writeFileAtomically(path, [&](std::ostream& out) {
    out.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(lenBytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  });
}

}  // namespace prunelab
