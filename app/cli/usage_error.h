#pragma once
// A command line that cannot be understood (unknown option, missing or malformed value,
// missing required option). main() reports it with the usage exit code (2), apart from
// errors in a well-formed request (exit code 1), which are plain prunelab::Error.

#include "util/error.h"

namespace prunelab::cli {

class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace prunelab::cli
