#pragma once
// torch.save() for a value tree (io/pickle_reader.h): the file PyTorch itself would write
// for the objects the tree describes, so that `torch.load(path, weights_only=False)` in
// the user's own stack (torch 1.13 or 2.x, yolov5, ultralytics, torchvision installed)
// returns them. And a compact in-memory form of a tree, for keeping a checkpoint's
// object tree inside a model's metadata between sessions.

#include <string>

#include "io/pickle_reader.h"

namespace prunelab {

// A zip as torch.save writes it: archive/data.pkl (io/pickle_writer.h), archive/data/<i>
// (one record per tensor, 64-byte aligned), archive/byteorder, archive/version. Written
// to a temporary file and renamed over `path`: an existing file is never half-replaced.
// Throws prunelab::Error naming `path` when it cannot be written.
void writeTorchSave(const std::string& path, const PyRef& root);

// The tree and its tensors in one text-safe string (base64 of the pickle and its
// storages) and back. unpackPyTree reads with unpickleTorch's allow-list and checks, so a
// tampered string is an Error naming `subject`, never code that runs.
std::string packPyTree(const PyRef& root);
PyRef unpackPyTree(const std::string& packed, const std::string& subject);

}  // namespace prunelab
