#pragma once
// Shared by the libFuzzer harnesses (one per parser, built with -DPRUNELAB_FUZZ=ON).
//
// The contract each harness checks: for any bytes, a parser either returns or throws
// prunelab::Error whose message names the file it was given. Anything else is a finding:
// another exception type, or a prunelab::Error that does not name the file (both leave the
// harness as an exception: libFuzzer reports the abort, test_fuzz_corpus fails naming the
// input), a crash, a sanitizer report, a leak, a hang.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "util/error.h"

namespace prunelab::fuzz {

inline std::string bytesOf(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// A per-process scratch directory (on tmpfs when there is one), made once and reused:
// harnesses whose parser only takes a path write each input there.
inline const std::string& scratchDir() {
  static const std::string dir = [] {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    std::string templ = std::string(base) + "/prunelab-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    return templ;
  }();
  return dir;
}

inline std::string writeScratch(const std::string& name, const std::string& bytes) {
  const std::string path = scratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::abort();
  return path;
}

// Runs `parse`; a prunelab::Error is the expected outcome for bad input, but its message
// must name `subject` (the file), else std::logic_error carries the message out.
template <typename Fn>
bool parsesOrNamesFile(const std::string& subject, Fn&& parse) {
  try {
    parse();
    return true;
  } catch (const Error& e) {
    if (std::string(e.what()).find(subject) == std::string::npos) {
      throw std::logic_error("error does not name " + subject + ": " + e.what());
    }
    return false;
  }
}

// For what runs after a successful parse (shape inference, costs): any prunelab::Error is
// fine (it names the node), nothing else is.
template <typename Fn>
void runOrError(Fn&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

}  // namespace prunelab::fuzz
