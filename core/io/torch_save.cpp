#include "io/torch_save.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <vector>

#include "io/pickle_writer.h"
#include "io/torch_pickle.h"
#include "io/torch_zip.h"
#include "util/atomic_file.h"
#include "util/base64.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::string storageBytes(const at::Tensor& t) {
  return std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size());
}

void appendRecord(std::string& out, const std::string& name, const std::string& data) {
  out += name + '\n' + std::to_string(data.size()) + '\n';
  out += data;
}

}  // namespace

void writeTorchSave(const std::string& path, const PyRef& root) {
  std::vector<at::Tensor> storages;
  const std::string pickle = pickleTorch(root, storages);
  replaceFileAtomically(path, [&](const std::string& tmp) {
    TorchZipWriter zip(tmp);
    zip.writeRecord("data.pkl", pickle.data(), pickle.size());
    zip.writeRecord("byteorder", "little", 6);
    for (size_t i = 0; i < storages.size(); ++i) {
      const at::Tensor& t = storages[i];
      zip.writeRecord("data/" + std::to_string(i), t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
    }
    zip.finish();  // writes archive/version
  });
}

std::string packPyTree(const PyRef& root) {
  std::vector<at::Tensor> storages;
  std::string raw;
  appendRecord(raw, "data.pkl", pickleTorch(root, storages));
  for (size_t i = 0; i < storages.size(); ++i) appendRecord(raw, "data/" + std::to_string(i), storageBytes(storages[i]));
  return base64Encode(raw);
}

PyRef unpackPyTree(const std::string& packed, const std::string& subject) {
  const std::string raw = base64Decode(packed, subject, "the kept checkpoint object tree");
  std::map<std::string, std::string> records;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t nameEnd = raw.find('\n', pos);
    const size_t sizeEnd = nameEnd == std::string::npos ? nameEnd : raw.find('\n', nameEnd + 1);
    if (sizeEnd == std::string::npos) throw Error(subject, "the kept checkpoint object tree is damaged");
    const std::string name = raw.substr(pos, nameEnd - pos);
    uint64_t size = 0;
    try {
      size = std::stoull(raw.substr(nameEnd + 1, sizeEnd - nameEnd - 1));
    } catch (const std::exception&) {
      throw Error(subject, "the kept checkpoint object tree is damaged");
    }
    if (size > raw.size() - sizeEnd - 1) throw Error(subject, "the kept checkpoint object tree is truncated");
    records[name] = raw.substr(sizeEnd + 1, size);
    pos = sizeEnd + 1 + size;
  }
  const auto pickle = records.find("data.pkl");
  if (pickle == records.end()) throw Error(subject, "the kept checkpoint object tree is damaged (no pickle)");
  return unpickleTorch(pickle->second, [&](const std::string& name) {
    const auto it = records.find(name);
    if (it == records.end()) throw Error(subject, "the kept checkpoint object tree has no record " + name);
    return it->second;
  }, subject);
}

}  // namespace prunelab
