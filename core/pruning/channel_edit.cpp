#include "pruning/channel_edit.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "util/error.h"

namespace prunelab {

namespace {

// The largest width group g may keep that is <= `keep` (allowed: the group's full
// width, or a multiple of roundTo at or above the minimum); the minimum when none is.
int64_t roundKeepDown(const Group& g, int64_t keep, const PlanConstraints& c) {
  const int64_t least = roundKeep(g, 0, c);
  if (keep >= g.size) return g.size;
  const int64_t step = std::max<int64_t>(c.roundTo, 1);
  return std::max(least, keep / step * step);
}

}  // namespace

ChannelEdit toggleChannels(const Group& g, const std::vector<double>& scores, const std::vector<int64_t>& removed,
                           const std::vector<int64_t>& channels, bool prune, const PlanConstraints& c) {
  auto score = [&](int64_t k) {
    const double s = k < static_cast<int64_t>(scores.size()) ? scores[k] : 0.0;
    return std::isfinite(s) ? s : 0.0;
  };
  std::set<int64_t> out(removed.begin(), removed.end());
  std::vector<int64_t> clicked;
  for (int64_t k : channels)
    if (k >= 0 && k < g.size && !g.pinned[k] && out.count(k) != static_cast<size_t>(prune)) clicked.push_back(k);
  std::sort(clicked.begin(), clicked.end());
  clicked.erase(std::unique(clicked.begin(), clicked.end()), clicked.end());
  ChannelEdit e;
  if (clicked.empty()) {
    e.removed.assign(out.begin(), out.end());
    return e;
  }
  const int64_t keptNow = g.size - static_cast<int64_t>(out.size());
  // Candidates in the order they change state: the clicked ones first, then the others,
  // lowest score first when pruning, highest first when keeping (stable: lower index first).
  std::vector<int64_t> others;
  for (int64_t k = 0; k < g.size; ++k)
    if (!g.pinned[k] && out.count(k) != static_cast<size_t>(prune) &&
        !std::binary_search(clicked.begin(), clicked.end(), k))
      others.push_back(k);
  auto byScore = [&](int64_t a, int64_t b) { return prune ? score(a) < score(b) : score(a) > score(b); };
  std::stable_sort(clicked.begin(), clicked.end(), byScore);
  std::stable_sort(others.begin(), others.end(), byScore);

  const int64_t wanted = keptNow + (prune ? -1 : 1) * static_cast<int64_t>(clicked.size());
  const int64_t keep = prune ? roundKeepDown(g, wanted, c) : roundKeep(g, wanted, c);
  if (prune && keep >= keptNow)
    throw Error(g.name, "keeps " + std::to_string(keptNow) + " of " + std::to_string(g.size) +
                            " channels, the least allowed (min channels " + std::to_string(c.minChannels) +
                            ", round-to " + std::to_string(c.roundTo) +
                            "): keep other channels first, or lower the limits");
  int64_t changes = std::abs(keep - keptNow);
  for (const std::vector<int64_t>* list : {&clicked, &others})
    for (int64_t k : *list) {
      if (changes == 0) break;
      if (prune) out.insert(k);
      else out.erase(k);
      --changes;
      if (list == &others) ++e.rounded;
    }
  e.removed.assign(out.begin(), out.end());
  return e;
}

}  // namespace prunelab
