#pragma once
// ultralytics-style `key=value` arguments (`train model=yolov8n.yaml epochs=3`), rewritten
// into the `--key=value` form before the command's parser sees them. Kept apart from the
// parser so the rule can be tested on plain strings.

#include <map>
#include <string>
#include <vector>

namespace prunelab::cli {

// Long option names of one command, without dashes ("close-mosaic"), and whether each
// takes a value (false: a flag such as "json").
using OptionNames = std::map<std::string, bool>;

// Returns `args` (the words after the command name) with every `name=value` word whose
// name, with '_' read as '-', is in `options` replaced by "--name=value"; the value is
// kept as one word, so values that start with '-' or contain '=' survive. A flag's
// value must be true/false (also True/False, yes/no, 1/0, as ultralytics writes them):
// true gives "--name", false drops the word; anything else throws UsageError
// (cli/usage_error.h) naming the option.
// Left alone: words starting with '-', words whose name is not an option (a path such
// as runs/lr=0.1, a stray word the parser will then report), the value after an option
// that takes one ("--lr-mult fc=10"), and everything after "--".
std::vector<std::string> rewriteKeyValueArgs(const std::vector<std::string>& args, const OptionNames& options);

}  // namespace prunelab::cli
