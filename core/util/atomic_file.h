#pragma once
// Crash-safe file replacement: write everything to a temporary file in the same
// directory, flush it to disk, then rename() over the target. A crash at any point
// leaves either the old file or the new one, never a torn file.
//
// The target is what the user named, not the directory entry: a symlink is followed and
// its final target replaced (the link stays a link); an existing target that is not a
// regular file (a FIFO, a device such as /dev/full, a directory, a socket) is refused,
// since renaming over it would silently turn it into a regular file. A failed write (disk
// full, file-size limit) throws, removes the temporary file and leaves the old target.

#include <functional>
#include <ostream>
#include <string>

namespace prunelab {

// Calls `write` with a binary stream on a temp file next to `path`, then renames.
// Throws prunelab::Error naming `path` if anything fails; the temp file is removed.
void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Same, for writers that need a file name (e.g. zip writers): `write(tempPath)`.
void replaceFileAtomically(const std::string& path, const std::function<void(const std::string& tempPath)>& write);

// Makes the output folder `dir` and its parents (nothing when it exists). Throws
// prunelab::Error naming the part of the path that is a file where a folder is needed,
// or `dir` and the system's reason when it cannot be created: std::filesystem's own
// error would reach the user as an internal one.
void createDirectories(const std::string& dir);

}  // namespace prunelab
