#pragma once
// sr_autopilot.csv: the sr curve the autopilot took, one row per controller update
//   step, epoch, lr, sr, sparse_fraction, sparse_target, quantile
// (step: global step from 0; epoch: fractional epochs done; quantile: |gamma| at the
// target's rank). Rewritten atomically at each epoch's end, like results.csv; a resumed
// run keeps the rows of the epochs it does not replay. Threads: the training thread.

#include <string>
#include <vector>

namespace prunelab {

class SrTrace {
 public:
  struct Row {
    long long step = 0;
    double epoch = 0, lr = 0, sr = 0, fraction = 0, target = 0, quantile = 0;
  };
  // Empty `runDir`: nothing is written. With `keepBeforeEpoch` > 0, rows of earlier epochs
  // already in the file are kept (resume).
  void open(const std::string& runDir, int keepBeforeEpoch);
  void add(const Row& r) { m_rows.push_back(r); }
  void flush() const;
  const std::vector<Row>& rows() const { return m_rows; }
  static constexpr const char* kFileName = "sr_autopilot.csv";

 private:
  std::string m_path;
  std::vector<Row> m_rows;
};

}  // namespace prunelab
