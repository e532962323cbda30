#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "util/error.h"

namespace prunelab {

namespace {

std::string tempNameFor(const std::string& path) {
  std::random_device rd;
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
}

void syncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void syncParentDir(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void replaceFileAtomically(const std::string& path,
                           const std::function<void(const std::string& tempPath)>& write) {
  const std::string tmp = tempNameFor(path);
  try {
    write(tmp);
    syncFile(tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error(path, "cannot replace file: " + ec.message());
    syncParentDir(path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    rethrowAsError(path);
  }
}

void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  replaceFileAtomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path, "cannot open for writing");
    write(out);
    out.flush();
    if (!out) throw Error(path, "write failed (disk full?)");
  });
}

}  // namespace prunelab
