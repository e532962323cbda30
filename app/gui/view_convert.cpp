#include "gui/view_convert.h"

#include <algorithm>
#include <cmath>

#include "analysis/cost.h"
#include "report/network_structure.h"

namespace prunelab::gui {

namespace {

// Mean of a group's finite scores normalised by the model's largest group mean (0..1).
std::vector<double> normalisedGroupImportance(const PruneModel& m) {
  std::vector<double> mean(m.deps().groups().size(), 0.0);
  if (!m.hasScores()) return mean;
  double top = 0;
  for (size_t g = 0; g < mean.size(); ++g) {
    double s = 0;
    int n = 0;
    for (double v : m.scores()[g])
      if (std::isfinite(v)) s += v, ++n;
    mean[g] = n ? s / n : 0.0;
    top = std::max(top, mean[g]);
  }
  if (top > 0)
    for (double& v : mean) v /= top;
  return mean;
}

int groupOfNode(const PruneModel& m, const Node& n) {
  const int g = m.deps().groupOfSource(n.id);
  if (g >= 0 || n.outputs.empty()) return g;
  return m.deps().locate(n.outputs[0], 0).first;
}

}  // namespace

NodeCosts nodeCosts(const Graph& graph) {
  NodeCosts c;
  const GraphCost cost = computeCost(graph);
  c.macs.assign(graph.nodes().size(), 0);
  for (const LayerCost& l : cost.layers)
    if (l.node >= 0 && l.node < static_cast<NodeId>(c.macs.size())) c.macs[l.node] = l.macs;
  c.totalMacs = cost.macs;
  return c;
}

widgets::NetworkView networkView(const PruneModel& m, const NodeCosts& costs) {
  widgets::NetworkView v = report::networkStructure(m.graph());
  for (const Node& n : m.graph().nodes()) {
    widgets::GraphNodeInfo& info = v.nodes[n.id];
    info.macs = n.id < static_cast<NodeId>(costs.macs.size()) ? costs.macs[n.id] : 0;
    info.group = groupOfNode(m, n);
  }
  updateNetworkView(m, v);
  return v;
}

void updateNetworkView(const PruneModel& m, widgets::NetworkView& v) {
  const Graph& g = m.graph();
  const auto kept = m.deps().keptChannels(m.plan().removed);
  const std::vector<double> importance = normalisedGroupImportance(m);
  for (widgets::GraphNodeInfo& info : v.nodes) {
    const Node& n = g.node(info.id);
    if (n.outputs.empty()) continue;
    const ValueId out = n.outputs[0];
    info.channels = static_cast<int>(m.deps().channelCount(out));
    info.kept = static_cast<int>(kept[out].size());
    info.importance = info.group >= 0 ? importance[info.group] : 0.0;
  }
}

QStringList floorLayers(const PruneModel& m) {
  QStringList r;
  const int64_t floor = std::max<int64_t>(1, m.constraints().minChannels);
  for (const Group& g : m.deps().groups()) {
    const auto removed = static_cast<int64_t>(m.plan().removed[g.id].size());
    if (removed > 0 && g.size - removed <= floor) r << QString::fromStdString(g.name);
  }
  return r;
}

QString needsScoresHint(const PruneModel& m, const QString& c, double latencyMs) {
  if (m.hasScores()) return {};
  if (c == "bn" || c == "l1" || c == "l2" || c == "random") return "scoring by " + c + "...";
  const double seconds = latencyMs > 0 ? latencyMs * 64 / 1000.0 : -1;
  return "needs scores: press Score (" + c + " runs the model on calibration images" +
         (seconds > 0 ? QString(", about %1 s)").arg(std::max(1.0, seconds), 0, 'f', 0) : QString(")"));
}

QVector<widgets::LayerRow> layerRows(const PruneModel& m, const NodeCosts& costs) {
  QVector<widgets::LayerRow> rows;
  const auto& groups = m.deps().groups();
  for (const Group& grp : groups) {
    if (grp.sources.empty()) continue;
    widgets::LayerRow r;
    const Node& src = m.graph().node(grp.sources.front());
    r.name = QString::fromStdString(grp.name);
    r.op = opKindName(src.op);
    r.group = grp.id;
    r.channels = static_cast<int>(grp.size);
    r.kept = static_cast<int>(grp.size - static_cast<int64_t>(m.plan().removed[grp.id].size()));
    r.prunable = grp.prunable();
    if (m.hasScores()) {
      double s = 0, lo = INFINITY;
      int n = 0;
      for (double v : m.scores()[grp.id])
        if (std::isfinite(v)) s += v, lo = std::min(lo, v), ++n;
      r.importanceMean = n ? s / n : 0.0;
      r.importanceMin = n ? lo : 0.0;
    }
    int64_t macs = 0;
    for (NodeId s : grp.sources) macs += costs.macs[s];
    r.macsShare = costs.totalMacs > 0 ? double(macs) / double(costs.totalMacs) : 0.0;
    rows.push_back(r);
  }
  return rows;
}

widgets::ChannelScores channelScores(const PruneModel& m, const QString& layer) {
  widgets::ChannelScores c;
  c.layer = layer;
  const int g = m.groupOfLayer(layer.toStdString());
  c.group = g;
  if (g < 0) return c;
  const Group& grp = m.deps().groups()[g];
  c.scores.resize(grp.size);
  c.pruned.fill(false, grp.size);
  c.pinned.resize(grp.size);
  for (int64_t k = 0; k < grp.size; ++k) {
    const double s = m.hasScores() ? m.scores()[g][k] : 0.0;
    c.scores[k] = std::isfinite(s) ? s : 0.0;
    c.pinned[k] = grp.pinned[k];
  }
  for (int64_t k : m.plan().removed[g]) c.pruned[k] = true;
  c.threshold = m.thresholdFor(g);
  return c;
}

widgets::GammaFrame gammaFrame(const GammaSnapshot& s) {
  widgets::GammaFrame f;
  f.step = s.step;
  f.epoch = s.epoch;
  for (const GammaLayer& l : s.layers) {
    f.layers << QString::fromStdString(l.name);
    f.absGamma.push_back(QVector<float>(l.absGamma.begin(), l.absGamma.end()));
  }
  return f;
}

widgets::StepPoint stepPoint(const StepStats& s, int epochs) {
  widgets::StepPoint p;
  p.epoch = s.epoch;
  p.step = s.step;
  p.loss = s.loss;
  p.lr = s.lr;
  p.sr = s.sr;
  p.imagesPerSec = s.imagesPerSec;
  const double perEpoch = std::max<int64_t>(1, s.batchesPerEpoch);
  p.epochPos = s.epoch + (s.batch + 1) / perEpoch;
  p.progress = epochs > 0 ? p.epochPos / epochs : 0.0;
  p.sparseFraction = s.sparseFraction;
  p.sparseTarget = s.sparseTarget;
  return p;
}

widgets::EpochPoint epochPoint(const EpochStats& e) {
  widgets::EpochPoint p;
  p.epoch = e.epoch;
  p.values.append({"train/loss", e.trainLoss});
  if (e.task == "classify") {
    p.values.append({"val/loss", e.valLoss});
    p.values.append({"train/top1", e.trainTop1});
    p.values.append({"val/top1", e.valTop1});
    p.values.append({"val/top5", e.valTop5});
  }
  for (const auto& kv : e.taskMetrics) p.values.append({QString::fromStdString(kv.first), kv.second});
  p.values.append({"speed/images_per_s", e.imagesPerSec});
  p.values.append({"gamma/abs_mean", e.gamma.absMean});
  p.values.append({"gamma/frac_below_0.01", e.gamma.fracBelow001});
  p.values.append({"sparse/fraction", e.sparseFraction});
  if (e.sparseTarget >= 0) p.values.append({"sparse/target", e.sparseTarget});
  return p;
}

widgets::SensitivityView sensitivityView(const SensitivityTable& t) {
  widgets::SensitivityView v;
  v.metric = QString::fromStdString(t.metric);
  v.baseline = t.baseline;
  v.macs = t.macs;
  v.ratios = QVector<double>(t.ratios.begin(), t.ratios.end());
  for (const SensitivityRow& r : t.rows) {
    widgets::SensitivityView::Row row;
    row.group = QString::fromStdString(r.group);
    row.channels = r.channels;
    for (const SensitivityCell& c : r.cells) {
      row.metric.push_back(c.metric);
      row.macs.push_back(c.macs);
      row.latencyMs.push_back(c.latencyMs);
    }
    v.rows.push_back(row);
  }
  return v;
}

TrainSettings trainSettings(const widgets::TrainRequest& r) {
  TrainSettings s;
  s.epochs = r.epochs;
  s.batch = r.batch;
  s.lr = r.lr;
  s.sr = r.sr;
  s.srDecay = r.srDecay;
  s.prunedNowPercent = r.prunedNowPercent;
  if (r.autopilot) {
    s.autopilot.target = r.sparsityTarget;
    s.autopilot.byEpoch = r.byEpoch;
  }
  s.distill = r.distill;
  s.processes = r.processes;
  return s;
}

widgets::TrainRequest trainRequest(const TrainSettings& s) {
  widgets::TrainRequest r;
  r.epochs = s.epochs;
  r.batch = static_cast<int>(s.batch);
  r.lr = s.lr;
  r.sr = s.sr;
  r.srDecay = s.srDecay;
  r.prunedNowPercent = s.prunedNowPercent;
  r.autopilot = s.autopilot.target > 0;
  if (r.autopilot) {
    r.sparsityTarget = s.autopilot.target;
    r.byEpoch = s.autopilot.byEpoch;
  }
  r.distill = s.distill;
  r.processes = s.processes;
  return r;
}

}  // namespace prunelab::gui
