#pragma once
// Where PruneLab's shipped files are (YOLO configs in models/, demo models in demo/):
//   1. $PRUNELAB_RESOURCES, if set;
//   2. <directory of the running executable>/../share/prunelab (an installed or unpacked .deb);
//   3. the source tree's resources/ (a build tree);
//   4. /usr/share/prunelab.
// The first that exists wins; the result has no trailing slash.

#include <string>

namespace prunelab {

std::string resourceDir();

}  // namespace prunelab
