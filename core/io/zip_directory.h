#pragma once
// A zip archive's central directory, read without LibTorch, for one purpose: checking
// what caffe2's PyTorchStreamReader (LibTorch 1.13) checks *after* its zip library has
// accepted an archive (files present, a top folder, a readable `version` record in the
// supported range). When one of those checks fails inside its constructor, the zip
// library's state is never freed: every such bad file leaked a few hundred bytes (found by
// tests/fuzz/fuzz_pt_file). TorchZipReader runs checkTorchArchive first and refuses those
// files itself.

#include <string>

namespace prunelab {

// Throws prunelab::Error naming `path` when the archive's central directory cannot be
// read (strictly: the zip library accepts more, then may leak), or when it reads fine but
// the file is not a PyTorch archive LibTorch would open (see above).
void checkTorchArchive(const std::string& path);

}  // namespace prunelab
