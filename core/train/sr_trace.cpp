#include "train/sr_trace.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"

namespace fs = std::filesystem;

namespace prunelab {

void SrTrace::open(const std::string& runDir, int keepBeforeEpoch) {
  m_rows.clear();
  m_path = runDir.empty() ? "" : (fs::path(runDir) / kFileName).string();
  if (m_path.empty() || keepBeforeEpoch <= 0) return;
  std::ifstream in(m_path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    Row r;
    char comma;
    std::istringstream is(line);
    if (!(is >> r.step >> comma >> r.epoch >> comma >> r.lr >> comma >> r.sr >> comma >> r.fraction >> comma >>
          r.target >> comma >> r.quantile))
      continue;  // a damaged line: dropped
    if (r.epoch < keepBeforeEpoch) m_rows.push_back(r);
  }
}

void SrTrace::flush() const {
  if (m_path.empty()) return;
  writeFileAtomically(m_path, [&](std::ostream& os) {
    os << "step,epoch,lr,sr,sparse_fraction,sparse_target,quantile\n";
    char buf[160];
    for (const Row& r : m_rows) {
      std::snprintf(buf, sizeof buf, "%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", r.step, r.epoch, r.lr, r.sr, r.fraction,
                    r.target, r.quantile);
      os << buf;
    }
  });
}

}  // namespace prunelab
