#include "util/resources.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace prunelab {

namespace fs = std::filesystem;

std::string resourceDir() {
  if (const char* env = std::getenv("PRUNELAB_RESOURCES"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "prunelab";
    if (fs::exists(installed / "models", ec)) return installed.string();
  }
  if (fs::exists(PRUNELAB_SOURCE_RESOURCES, ec)) return PRUNELAB_SOURCE_RESOURCES;
  return "/usr/share/prunelab";
}

}  // namespace prunelab
