#pragma once
// The pickled object tree of a torch.save() zip file (data.pkl plus one record per
// storage), read without running anything: tensors become Tensor values, OrderedDicts
// and sets plain Dicts and Lists, nn.Module objects inert Objects whose `state` holds
// their __dict__ (`_modules`, `_parameters`, `_buffers`, plain attributes).
//
// Only an allow-list of names may appear in the pickle (isKnownTorchGlobal): torch's
// tensor/storage rebuilders, dtypes and devices, torch.nn.modules.*, torchvision.models.*, the yolov5
// (`models.yolo`, `models.common`, `models.experimental`) and ultralytics
// (`ultralytics.nn.*` and the namespaces and losses its checkpoints hold) classes, plus
// a few containers (OrderedDict, set, SimpleNamespace, argparse.Namespace, pathlib
// paths, numpy scalars/arrays). Anything else, `os.system`, `builtins.eval`,
// `subprocess.Popen`..., stops the read with an Error naming the file and the name.

#include <functional>
#include <string>

#include "io/pickle_reader.h"

namespace prunelab {

// True when `global` ("module.name") may appear in a torch checkpoint's pickle.
bool isKnownTorchGlobal(const std::string& global);

// Reads the pickle of the torch.save() zip at `path`. Throws prunelab::Error naming `path`
// for a missing, non-zip, truncated or refused file.
PyRef readTorchPickle(const std::string& path);

// The same from the bytes of data.pkl and a reader of the archive's other records (the
// storages, "data/<key>"; it throws prunelab::Error for a missing one). `path` names the
// file in errors. readTorchPickle is this over a TorchZipReader; the fuzz harness
// (tests/fuzz/fuzz_torch_pickle.cpp) calls it with records held in memory.
using TorchRecordReader = std::function<std::string(const std::string& name)>;
PyRef unpickleTorch(const std::string& pickle, const TorchRecordReader& readRecord, const std::string& path);

// A pickled object of class `module.Class` (NEWOBJ/REDUCE on a Global) and its BUILD
// state as a dict (nullptr when `v` is not such an object or has no dict state).
bool isPyObject(const PyRef& v);
std::string pyClassName(const PyRef& v);  // "models.yolo.DetectionModel"; "" if not an object
PyRef pyObjectDict(const PyRef& v);
// The value under string key `key` of a Dict (nullptr when absent or `dict` is not one).
PyRef pyDictGet(const PyRef& dict, const std::string& key);

}  // namespace prunelab
