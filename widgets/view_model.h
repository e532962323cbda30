#pragma once
// Plain value structs the panels draw. `app` fills them from core on the worker thread
// (or from the GUI-side prune model) and hands copies to the GUI thread through queued
// signals; nothing here refers to tensors or to core types.
//
// Conventions
// - A layer is named by its graph node name ("layer1.0.conv1", "model.2.cv1.conv").
// - Channel counts are a node's output channels; `kept` is what the current plan keeps.
// - MACs follow core's counting convention (README, "Counting").

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QtGlobal>

namespace prunelab::widgets {

// ---- Network graph ----------------------------------------------------------------
struct GraphNodeInfo {
  int id = -1;              // graph node id (index in NetworkView::nodes)
  QString name;             // unique node name
  QString scope;            // PyTorch module path, '.'-separated ("model.2.cv1")
  QString op;               // "Conv", "BatchNorm", "Add", ...
  bool channelSource = false;  // the op creates channels (Conv, Linear: OpSpec::isChannelSource)
  QString shape;            // output shape, "1x16x32x32"
  qint64 macs = 0;
  int group = -1;           // dependency group its output channels belong to (-1: none)
  int channels = 0;         // output channels (0: no channel dim)
  int kept = 0;             // output channels the current plan keeps
  double importance = 0.0;  // mean normalised importance of its group (0..1), or 0
};

struct GraphEdge {
  int from = -1;  // node ids
  int to = -1;
};

struct NetworkView {
  QVector<GraphNodeInfo> nodes;  // topological order
  QVector<GraphEdge> edges;
};

// ---- Layers and channels ----------------------------------------------------------
struct LayerRow {
  QString name;        // source node (Conv/Linear) creating a prunable group
  QString op;
  int group = -1;
  int channels = 0;
  int kept = 0;
  bool prunable = true;
  double importanceMean = 0.0;  // mean raw score of the group's channels
  double importanceMin = 0.0;
  double macsShare = 0.0;       // this node's share of the model's MACs (0..1)
  double ratio() const { return channels > 0 ? 1.0 - double(kept) / channels : 0.0; }
};

struct ChannelScores {
  QString layer;            // source node name
  int group = -1;
  QVector<double> scores;   // one per channel of the group
  QVector<bool> pruned;     // the current plan removes it
  QVector<bool> pinned;     // can never be removed
  double threshold = -1.0;  // the global threshold in score units (<0: none)
};

// ---- Costs ------------------------------------------------------------------------
struct CostTotals {
  qint64 params = 0;
  qint64 macs = 0;
  qint64 sizeBytes = 0;
  double latencyMs = -1.0;  // measured or estimated batch-1 latency (<0: unknown)
  // latencyMs is not a measurement but the measured latency scaled by the MACs kept
  // (what-if); views must say so.
  bool latencyEstimated = false;
  // latencyMs is predicted from per-layer latencies measured on this machine (a latency
  // table: the Prune panel's "Measure latency"), not scaled by MACs.
  bool latencyFromTable = false;
};

struct WhatIf {
  CostTotals before;
  CostTotals after;
  qint64 channelsRemoved = 0;
  double highestSafePercent = -1.0;  // bn: the largest percent that keeps every layer
  // Layers the plan leaves at the fewest channels it may keep (marked red: a cut that deep
  // usually costs more than the rest of the plan together).
  QStringList floorLayers;
  // The criterion needs data to score (activation, taylor...) and has no scores yet: the
  // what-if says so instead of "0 channels planned" (empty: scored, or data-free).
  QString needsScores;
};

// ---- Training ---------------------------------------------------------------------
struct StepPoint {
  int epoch = 0;
  qint64 step = 0;
  double loss = 0.0;
  double lr = 0.0;
  double sr = 0.0;
  double imagesPerSec = 0.0;
  double progress = 0.0;  // 0..1 of the whole run
  double epochPos = 0.0;  // epoch + fraction of it done: the x of step curves
  // The sr autopilot's measured fraction of |gamma| below its threshold and its target
  // (both < 0 on steps it did not measure).
  double sparseFraction = -1.0, sparseTarget = -1.0;
};

// One epoch's numbers as (name, value) pairs, e.g. ("train/loss", 0.4),
// ("val/top1", 0.91), ("metrics/mAP50", 0.6), ("pruned_now/top1", 0.88),
// ("sparse/fraction", 0.3) and, while the sr autopilot steers, ("sparse/target", 0.35).
struct EpochPoint {
  int epoch = 0;  // 0-based
  QVector<QPair<QString, double>> values;
};

struct GammaFrame {
  qint64 step = 0;
  double epoch = 0.0;                 // fractional
  QString note;                       // what made this snapshot when not training ("after prune 40 %")
  QStringList layers;                 // BN node names
  QVector<QVector<float>> absGamma;   // per layer
};

// ---- Compare ----------------------------------------------------------------------
struct CompareLayer {
  QString name;
  int before = 0;
  int after = 0;
};

struct CompareData {
  CostTotals before;
  CostTotals after;
  QString metricName;       // "top-1" or "mAP50-95"
  double metricBefore = -1.0;  // <0: not measured
  double metricAfter = -1.0;
  QVector<CompareLayer> layers;
};

}  // namespace prunelab::widgets

Q_DECLARE_METATYPE(prunelab::widgets::NetworkView)
Q_DECLARE_METATYPE(prunelab::widgets::ChannelScores)
Q_DECLARE_METATYPE(prunelab::widgets::WhatIf)
Q_DECLARE_METATYPE(prunelab::widgets::StepPoint)
Q_DECLARE_METATYPE(prunelab::widgets::EpochPoint)
Q_DECLARE_METATYPE(prunelab::widgets::GammaFrame)
Q_DECLARE_METATYPE(prunelab::widgets::CompareData)
