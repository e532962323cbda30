#pragma once
// Connects an SrAutopilot (train/sr_autopilot.h) to a training run: measures the
// penalised BNs' |gamma|, feeds the controller, writes its sr into the run's TrainControl,
// applies the metric guard at validations and keeps the trace (train/sr_trace.h).
//
// Hand-over: the driver writes TrainControl::sr with a compare-and-swap against the value
// it wrote last. If the value changed in between (a slider, a script, another thread),
// or TrainControl::autopilot was cleared, the pilot disengages at the next step, clears
// TrainControl::autopilot, leaves sr where the hand put it and says so through `message`.
// Setting TrainControl::autopilot again re-engages it from the current sr and gammas.
//
// Threads: every call on the training thread; TrainControl is the only shared state.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "train/sr_autopilot.h"
#include "train/sr_trace.h"
#include "train/train_observer.h"

namespace prunelab {

class SrPilotDriver {
 public:
  using Message = std::function<void(const std::string&)>;
  // `targets`: the BN nodes the L1 penalty applies to (sparsityTargets()).
  SrPilotDriver(const SrAutopilotOptions& options, std::shared_ptr<TrainControl> control, const Graph& graph,
                std::vector<NodeId> targets, Message message);

  bool enabled() const { return m_o.enabled(); }
  bool steering() const { return m_pilot != nullptr; }
  // Opens the trace in `runDir` (empty: none), keeping rows before `startEpoch` (resume).
  void openTrace(const std::string& runDir, int startEpoch) { m_trace.open(runDir, startEpoch); }
  // The validation metric of the model before training: the guard's reference.
  void setReference(double metric);

  // Before a step, once its lr is known: (dis)engages and, every options.everySteps
  // steps, moves sr. Fills step.sparseFraction/sparseTarget when it measured.
  void beforeStep(int64_t globalStep, double epochPos, double lr, double stepsPerEpoch, StepStats& step);
  // At an epoch's end (after validation when es.validated): the sparse_* fields of `es`,
  // the metric guard, the trace written out.
  void endEpoch(EpochStats& es, double epochPos);

  const SrTrace& trace() const { return m_trace; }

 private:
  SparsityMeasure measure() const;
  void engage(double epochPos, const std::string& why);
  void disengage(const std::string& why);
  bool write(double sr);  // false: someone else wrote sr since our last write

  SrAutopilotOptions m_o;
  std::shared_ptr<TrainControl> m_control;
  const Graph& m_graph;
  std::vector<NodeId> m_targets;
  Message m_message;
  std::unique_ptr<SrAutopilot> m_pilot;
  double m_written = 0.0;  // the sr we wrote last
  double m_reference = 0.0;
  bool m_hasReference = false;
  bool m_reported = false;  // the by-epoch result was said
  SrTrace m_trace;
};

}  // namespace prunelab
