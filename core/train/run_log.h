#pragma once
// The per-epoch run log: results.csv (like ultralytics' results.csv) and log.jsonl,
// both rewritten atomically after every epoch, so a crash never leaves half a row.

#include <string>
#include <vector>

#include "train/train_observer.h"

namespace prunelab {

class RunLog {
 public:
  // Opens runDir's log; with `keepExisting`, previous rows are kept (resume).
  void open(const std::string& runDir, bool keepExisting);
  // Drops rows of epochs after `epoch` (0-based; -1 drops all): a resumed run replays them.
  void truncateAfter(int epoch);
  void append(const EpochStats& stats);

  static std::string csvHeader();  // of a classification run
  static std::string csvHeader(const std::string& firstRowJson);

 private:
  void flush() const;

  std::string m_dir;
  std::vector<std::string> m_jsonRows;  // one JSON object per epoch
  std::vector<int> m_epochs;
};

}  // namespace prunelab
