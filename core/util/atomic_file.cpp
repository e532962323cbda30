#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

// fsync's failure is the last word on a full disk for data the page cache accepted.
void syncFile(const std::string& path, const std::string& target) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(target, "cannot reopen the written file to flush it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(target, std::string("write failed while flushing to disk: ") + std::strerror(errno));
}

// The file a write to `path` should replace: symlinks followed to their last target
// (which may not exist yet). Throws for a target that is not a regular file.
std::string resolveTarget(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) throw Error(path, "too many levels of symbolic links");
    const fs::path link = fs::read_symlink(p, ec);
    if (ec) throw Error(path, "cannot read symbolic link: " + ec.message());
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  const fs::file_status st = fs::status(p, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    const char* what = fs::is_directory(st) ? "a directory"
                       : fs::is_fifo(st)    ? "a FIFO"
                       : fs::is_character_file(st) || fs::is_block_file(st) ? "a device"
                       : fs::is_socket(st) ? "a socket"
                                           : "not a regular file";
    throw Error(path, std::string("is ") + what + "; PruneLab writes regular files only (give a file path)");
  }
  return p.string();
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
  const std::string target = resolveTarget(path);
  const std::string tmp = tempNameFor(target);
  try {
    write(tmp);
    syncFile(tmp, path);
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec) throw Error(path, "cannot replace file: " + ec.message());
    syncParentDir(target);
  } catch (const Error& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    if (e.subject() == tmp) throw Error(path, e.reason());  // the temp file's name means nothing to the user
    rethrowAsError(path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    rethrowAsError(path);
  }
}

void createDirectories(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::path prefix;
  for (const fs::path& part : fs::path(dir)) {
    if (part.empty()) continue;  // the trailing "" of "a/b/"
    prefix /= part;
    const fs::file_status st = fs::status(prefix, ec);
    if (fs::exists(st) && !fs::is_directory(st))
      throw Error(prefix.string(), prefix == fs::path(dir) ? "is a file, not a directory"
                                                          : "is a file, not a directory (" + dir + " would be inside it)");
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir, "cannot create the folder: " + ec.message());
}

void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  replaceFileAtomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path, "cannot open for writing");
    write(out);
    out.flush();
    if (!out) throw Error(path, std::string("write failed (disk full?): ") + std::strerror(errno));
    out.close();
    if (!out) throw Error(path, std::string("write failed (disk full?): ") + std::strerror(errno));
  });
}

}  // namespace prunelab
