// Data-parallel training on c10d. In-process: the sampler against PyTorch's
// DistributedSampler, the shards of a real DataLoader, SyncBatchNorm against BatchNorm,
// two ranks on threads averaging gradients. Through the CLI (2 processes on loopback, a
// conv-BN-SiLU classifier from PyTorch on 640 16x16 images, 20 steps): 2 x batch 16
// against 1 x batch 32, against PyTorch DDP itself, a killed rank, torchrun's
// environment, an unreachable store.
//
// Every test function can run alone (`./test_data_parallel killedRankIsNamed`): the data and
// the initial model come from initTestCase, and the training runs that several functions
// compare with (run(): 1 x batch 32 and 2 x batch 16 with frozen BN statistics) are made by
// whichever function needs them first, always with the same arguments.

#include <ATen/ATen.h>
#include <signal.h>
#include <sys/types.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "data/data_loader.h"
#include "data/distributed_sampler.h"
#include "distributed/dist_env.h"
#include "distributed/dist_group.h"
#include "distributed/grad_reducer.h"
#include "distributed/sync_batch_norm.h"
#include "exec/graph_module.h"
#include "io/checkpoint.h"
#include "models/graph_builder.h"
#include "test_helpers.h"

using namespace prunelab;
using prunelab::test::runCli;

namespace {

struct PyRun {
  int code;
  std::string out, err;
};

PyRun runPython(const QStringList& args, int timeoutMs = 300000) {
  QProcess p;
  p.start(PRUNELAB_PYTHON, QStringList{PRUNELAB_SOURCE_DIR "/tests/python/ddp_reference.py"} + args);
  if (!p.waitForFinished(timeoutMs)) return {-1, "", "timeout"};
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

// Batches that are only their indices: what a rank's loader hands out.
class IndexBatches : public BatchSource {
 public:
  explicit IndexBatches(size_t n) : m_n(n) {}
  size_t size() const override { return m_n; }
  Batch assemble(const std::vector<size_t>& indices, int, bool) const override {
    Batch b;
    b.indices = indices;
    b.images = at::zeros({static_cast<int64_t>(indices.size()), 1, 1, 1});
    return b;
  }
  std::string description() const override { return "indices"; }

 private:
  size_t m_n;
};

// conv -> BN -> ReLU -> pool -> linear: small, with a BN whose statistics matter.
std::shared_ptr<Graph> smallNet() {
  auto g = std::make_shared<Graph>();
  GraphBuilder b(*g);
  ValueId x = b.input("x", {3, 8, 8});
  x = b.conv(x, "conv", 6, 3);
  x = b.batchNorm(x, "bn");
  x = b.act(OpKind::ReLU, x, "act");
  x = b.globalAvgPool(x, "pool");
  x = b.flatten(x, "flat");
  b.output(b.linear(x, "fc", 4));
  return g;
}

// An independent copy whose parameters are leaves that require grad (as the trainer's).
std::shared_ptr<Graph> trainableCopy(const Graph& g) {
  auto c = std::make_shared<Graph>(g.clone());
  for (Node& n : c->nodes())
    for (NamedTensor& t : n.tensors) {
      t.tensor = t.tensor.detach().clone();
      if (!t.isBuffer) t.tensor.set_requires_grad(true);
    }
  return c;
}

std::map<std::string, at::Tensor> stateOf(const std::string& plm) {
  std::map<std::string, at::Tensor> r;
  for (const auto& [k, v] : loadCheckpoint(plm).graph.stateDict()) r[k] = v;
  return r;
}

// max |a - b| over every floating tensor of two checkpoints (and the tensor it is in).
std::pair<double, std::string> maxDiff(const std::string& a, const std::string& b) {
  const auto sa = stateOf(a), sb = stateOf(b);
  double worst = 0;
  std::string where;
  for (const auto& [k, v] : sa) {
    if (!v.is_floating_point()) continue;
    const double d = (v.to(at::kDouble) - sb.at(k).to(at::kDouble)).abs().max().item<double>();
    if (d > worst) {
      worst = d;
      where = k;
    }
  }
  return {worst, where};
}

DistEnv localEnv(int rank, int world, int port) {
  DistEnv e;
  e.rank = rank;
  e.world = world;
  e.masterAddr = "127.0.0.1";
  e.masterPort = port;
  e.timeout = e.connectTimeout = std::chrono::seconds(30);
  return e;
}

int freePort() { return freeLocalPort(); }

}  // namespace

class TestDataParallel : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString m_data, m_init;

  QStringList trainArgs(const QString& out, const QStringList& extra) const {
    return QStringList{"train", "--model", m_init, "--data", m_data, "--epochs", "1", "--sr", "0.01", "--lr", "0.05",
                       "--schedule", "constant", "--warmup", "0", "--no-augment", "--normalize", "none", "--threads",
                       "1", "--workers", "1", "--gamma-every", "0", "--out", m_dir.path() + "/" + out} +
           extra;
  }
  std::string plm(const QString& run) const { return (m_dir.path() + "/" + run + "/last.plm").toStdString(); }

  // The training run `name` with `extra` arguments: made on first use, then reused (the runs
  // are deterministic, so it does not matter which test function made it). Asking for a
  // name again with other arguments is a bug in the test.
  const test::CliRun& run(const QString& name, const QStringList& extra) {
    auto it = m_runs.find(name);
    if (it == m_runs.end()) it = m_runs.emplace(name, std::make_pair(extra, runCli(trainArgs(name, extra)))).first;
    if (it->second.first != extra) qFatal("run %s asked for with other arguments", qPrintable(name));
    return it->second.second;
  }
  // The two runs other functions compare with; the first is the reference run of
  // twoProcessesEqualOneBigBatch.
  const test::CliRun& oneProcessBatch32() { return run("one32eval", {"--bn-eval", "--batch", "32"}); }
  const test::CliRun& twoProcessesBatch16() { return run("two16eval", {"--bn-eval", "--batch", "16", "--nproc", "2"}); }
  std::map<QString, std::pair<QStringList, test::CliRun>> m_runs;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_data = m_dir.path() + "/data";
    const PyRun made = runPython({"--make-folder", m_data});
    QVERIFY2(made.code == 0, made.err.c_str());
    // A conv-BN-SiLU classifier from PyTorch (ONNX, BN kept), as PruneLab's checkpoint.
    const QString onnx = m_dir.path() + "/net.onnx";
    const PyRun net = runPython({"--make-net", onnx});
    QVERIFY2(net.code == 0, net.err.c_str());
    m_init = m_dir.path() + "/init.plm";
    const auto r = runCli({"export", "--model", onnx, "--format", "native", "--no-check", "--out", m_init});
    QVERIFY2(r.code == 0, r.err.c_str());
  }

  void samplerIsPyTorchsDistributedSampler() {
    // The same permutation (LibTorch's randperm, seed + epoch), padding and striding.
    for (const auto& [n, world, seed, epoch] :
         std::vector<std::array<int, 4>>{{640, 2, 0, 0}, {11, 2, 0, 3}, {10, 3, 7, 1}, {2, 3, 0, 0}, {100, 4, 5, 2}}) {
      const PyRun py = runPython({"--sampler", QString::number(n), QString::number(world), QString::number(seed),
                                  QString::number(epoch)});
      QVERIFY2(py.code == 0, py.err.c_str());
      const auto ref = nlohmann::json::parse(py.out);
      for (int r = 0; r < world; ++r) {
        const std::vector<size_t> mine = distributedSample(size_t(n), r, world, true, uint64_t(seed), epoch);
        QCOMPARE(mine, ref.at(r).get<std::vector<size_t>>());
      }
    }
    // Sensitive to the seed: another epoch is another order.
    QVERIFY(distributedSample(640, 0, 2, true, 0, 0) != distributedSample(640, 0, 2, true, 0, 1));
  }

  void shardsSeeEverySampleOnce() {
    // Two ranks' DataLoaders over one epoch of 1000 samples (batch 7: a short last batch):
    // every sample exactly once, no rank reads another's, and batches per rank agree.
    for (const int world : {2, 4}) {
      std::multiset<size_t> seen;
      size_t batches = 0;
      for (int rank = 0; rank < world; ++rank) {
        LoaderOptions o;
        o.batchSize = 7;
        o.workers = 2;
        o.rank = rank;
        o.world = world;
        o.seed = 3;
        DataLoader loader(std::make_shared<IndexBatches>(1000), o);
        if (rank == 0) batches = loader.batchesPerEpoch();
        QCOMPARE(loader.batchesPerEpoch(), batches);
        loader.startEpoch(2);
        Batch b;
        while (loader.next(b)) seen.insert(b.indices.begin(), b.indices.end());
      }
      QCOMPARE(seen.size(), size_t{1000});
      for (size_t i = 0; i < 1000; ++i) QCOMPARE(seen.count(i), size_t{1});
    }
    // Not divisible: DistributedSampler pads with the first samples of the order.
    std::multiset<size_t> seen;
    for (int rank = 0; rank < 3; ++rank)
      for (size_t i : distributedSample(10, rank, 3, true, 0, 0)) seen.insert(i);
    QCOMPARE(seen.size(), size_t{12});
    const std::vector<size_t> order = distributedSample(10, 0, 1, true, 0, 0);
    QCOMPARE(seen.count(order[0]), size_t{2});
    QCOMPARE(seen.count(order[1]), size_t{2});
  }

  void syncBatchNormOfOneRankIsBatchNorm() {
    // With a cross-replica "sum" over one rank (the identity), SyncBN's output, gradients
    // and running statistics equal at::batch_norm's.
    const auto net = smallNet();
    GraphModule a(trainableCopy(*net)), b(trainableCopy(*net));
    b->setCrossReplicaSum([](const at::Tensor& t) { return t * 1.0; });
    a->train();
    b->train();
    const at::Tensor x = at::randn({5, 3, 8, 8}) * 3 + 1;
    const at::Tensor ya = a->forward(x), yb = b->forward(x);
    QVERIFY(test::maxAbsDiff(ya, yb) < 1e-5);
    ya.pow(2).sum().backward();
    yb.pow(2).sum().backward();
    for (const char* key : {"conv.weight", "bn.weight", "bn.bias", "fc.weight"}) {
      const at::Tensor ga = a->named_parameters()[key].grad(), gb = b->named_parameters()[key].grad();
      QVERIFY2(ga.defined(), (std::string("a ") + key).c_str());
      QVERIFY2(gb.defined(), (std::string("b ") + key).c_str());
      QVERIFY2(test::maxAbsDiff(ga, gb) < 1e-4 * std::max(1.0, ga.abs().max().item<double>()), key);
    }
    QVERIFY(test::maxAbsDiff(a->named_buffers()["bn.running_var"], b->named_buffers()["bn.running_var"]) < 1e-6);
    QVERIFY(test::maxAbsDiff(a->named_buffers()["bn.running_mean"], b->named_buffers()["bn.running_mean"]) < 1e-6);
  }

  void twoRanksOnThreadsAverageGradients() {
    // Two DistGroups in one process (threads): SyncBN + GradReducer give each rank the
    // gradient of the whole batch, as one module sees it.
    const int port = freePort();
    auto net = smallNet();
    const at::Tensor x = at::randn({8, 3, 8, 8});
    GraphModule whole(trainableCopy(*net));
    whole->train();
    whole->forward(x).pow(2).mean().backward();
    std::vector<std::map<std::string, at::Tensor>> grads(2);
    std::vector<std::string> errors(2);
    auto rankMain = [&](int rank) {
      try {
        auto group = DistGroup::join(localEnv(rank, 2, port));
        GraphModule m(trainableCopy(*net));
        m->train();
        m->setCrossReplicaSum(makeCrossReplicaSum(group));
        std::vector<at::Tensor> params;
        for (auto& p : m->parameters()) params.push_back(p);
        GradReducer reducer(group, params, /*bucketBytes=*/200);  // several buckets
        QVERIFY(reducer.bucketCount() > 1);
        reducer.prepare();
        // Each rank's loss is the mean over its half; their average is the whole mean.
        m->forward(x.narrow(0, rank * 4, 4)).pow(2).mean().backward();
        reducer.finish();
        for (auto& kv : m->named_parameters()) grads[rank][kv.key()] = kv.value().grad().clone();
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    };
    std::thread t0(rankMain, 0), t1(rankMain, 1);
    t0.join();
    t1.join();
    QVERIFY2(errors[0].empty() && errors[1].empty(), (errors[0] + errors[1]).c_str());
    for (auto& kv : whole->named_parameters()) {
      const at::Tensor ref = kv.value().grad();
      const double tol = 1e-5 * std::max(1.0, ref.abs().max().item<double>());
      QVERIFY2(test::maxAbsDiff(grads[0].at(kv.key()), ref) < tol, kv.key().c_str());
      QVERIFY2(test::maxAbsDiff(grads[1].at(kv.key()), ref) < tol, kv.key().c_str());
    }
  }

  void twoProcessesEqualOneBigBatch() {
    // 2 processes x batch 16 on loopback against 1 process x batch 32: 20 SGD steps (640
    // images), sr > 0, with BN statistics frozen (--bn-eval) and with SyncBatchNorm
    // against plain BN. (The model is smooth, SiLU: see ddp_reference.py --make-net.)
    for (const bool sync : {false, true}) {
      const QString tag = sync ? "sync" : "eval";
      const QStringList bn = sync ? QStringList{} : QStringList{"--bn-eval"};
      const auto& one = sync ? run("one32sync", {"--batch", "32"}) : oneProcessBatch32();
      QVERIFY2(one.code == 0, one.err.c_str());
      const auto& two = sync ? run("two16sync", {"--batch", "16", "--nproc", "2", "--sync-bn"}) : twoProcessesBatch16();
      QVERIFY2(two.code == 0, two.err.c_str());
      QVERIFY2(two.out.find("data-parallel: rank 0 of 2") != std::string::npos, two.out.c_str());
      const auto& small = run("one16" + tag, bn + QStringList{"--batch", "16"});
      QVERIFY2(small.code == 0, small.err.c_str());
      const auto [same, where] = maxDiff(plm("one32" + tag), plm("two16" + tag));
      const auto [other, otherWhere] = maxDiff(plm("one32" + tag), plm("one16" + tag));
      const auto [moved, movedWhere] = maxDiff(m_init.toStdString(), plm("one32" + tag));
      qInfo("%s BN: 2x16 vs 1x32: %.3g (%s); 1x16 vs 1x32: %.3g; moved from init: %.3g", sync ? "sync" : "eval",
            same, where.c_str(), other, moved);
      QVERIFY2(same < 1e-5, where.c_str());
      QVERIFY(other > 1e-3);  // the comparison can fail: another batch is another result
      QVERIFY(moved > 1e-2);
    }
    // sr reaches the weights: without it, the same 2-process run ends elsewhere.
    const auto& plain = run("two16plain", {"--bn-eval", "--batch", "16", "--nproc", "2", "--sr", "0"});
    QVERIFY2(plain.code == 0, plain.err.c_str());
    QVERIFY(maxDiff(plm("two16plain"), plm("two16eval")).first > 1e-3);
  }

  void liveSrReachesEveryRank() {
    // The sr autopilot runs on rank 0 only and moves sr at every step (0.069 -> 0.1 here);
    // rank 1 trains with the values rank 0 broadcasts. Had rank 1 kept its own sr, its
    // weights and so the averaged gradients would part from the one-process run.
    const QStringList pilot{"--bn-eval", "--sparsity-target", "0.3", "--by-epoch", "1", "--sparsity-max-drop", "0"};
    auto one = runCli(trainArgs("pilot32", pilot + QStringList{"--batch", "32"}));
    QVERIFY2(one.code == 0, one.err.c_str());
    auto two = runCli(trainArgs("pilot16", pilot + QStringList{"--batch", "16", "--nproc", "2"}));
    QVERIFY2(two.code == 0, two.err.c_str());
    const auto& fixed = twoProcessesBatch16();
    QVERIFY2(fixed.code == 0, fixed.err.c_str());
    const auto [same, where] = maxDiff(plm("pilot32"), plm("pilot16"));
    const auto [moved, movedWhere] = maxDiff(plm("pilot16"), plm("two16eval"));  // the same run at a fixed sr
    qInfo("autopilot 2x16 vs 1x32: %.3g (%s); against the fixed-sr run: %.3g", same, where.c_str(), moved);
    QVERIFY2(same < 1e-5, where.c_str());
    QVERIFY(moved > 1e-2);
  }

  void matchesPyTorchDdp() {
    // PyTorch DDP (Gloo, 2 processes, DistributedSampler, the same initial TorchScript
    // weights, sr * sign(gamma) after the all-reduce) against `--nproc 2`: 20 steps.
    const QString init = m_dir.path() + "/init.pt", ours = m_dir.path() + "/ddp_ours.pt",
                  ref = m_dir.path() + "/ddp.pt";
    const auto& two = twoProcessesBatch16();
    QVERIFY2(two.code == 0, two.err.c_str());
    for (const auto& [from, to] : std::vector<std::pair<QString, QString>>{
             {m_init, init}, {QString::fromStdString(plm("two16eval")), ours}}) {
      const auto r = runCli({"export", "--model", from, "--format", "torchscript", "--no-check", "--out", to});
      QVERIFY2(r.code == 0, r.err.c_str());
    }
    const PyRun ddp = runPython({"--model", init, "--data", m_data + "/train", "--batch", "16", "--steps", "20",
                                 "--lr", "0.05", "--sr", "0.01", "--out", ref});
    QVERIFY2(ddp.code == 0, ddp.err.c_str());
    const PyRun cmp = runPython({"--compare", ref, ours, "--model", init});
    QVERIFY2(cmp.code == 0, cmp.err.c_str());
    const auto j = nlohmann::json::parse(cmp.out);
    qInfo("PyTorch DDP vs PruneLab --nproc 2: %s", cmp.out.c_str());
    QVERIFY2(j["max_abs_diff"].get<double>() < 1e-4, cmp.out.c_str());
    QVERIFY(j["max_abs_change_from_init"].get<double>() > 1e-2);
  }

  void resumeWithAnotherWorldSize() {
    // Epoch 1 on 2 processes, epoch 2 resumed by 1 process at the same global batch: the
    // weights of one straight 2-epoch run on 1 process (rank 0 broadcast the resumed state;
    // the sampler's order does not depend on the world size). And the other way round.
    const QStringList common{"--bn-eval", "--epochs", "2"};
    auto straight = runCli(trainArgs("straight", common + QStringList{"--batch", "32"}));
    QVERIFY2(straight.code == 0, straight.err.c_str());
    // Stop after epoch 1 by running 1 epoch of a 2-epoch schedule: constant lr, so the same.
    auto first = runCli(trainArgs("resumed", QStringList{"--bn-eval", "--batch", "16", "--nproc", "2"}));
    QVERIFY2(first.code == 0, first.err.c_str());
    auto second = runCli(trainArgs("resumed", common + QStringList{"--batch", "32", "--resume"}));
    QVERIFY2(second.code == 0, second.err.c_str());
    QVERIFY2(second.out.find("resumed from") != std::string::npos, second.out.c_str());
    auto back = runCli(trainArgs("resumed2", QStringList{"--bn-eval", "--batch", "32"}));
    QVERIFY2(back.code == 0, back.err.c_str());
    auto onTwo = runCli(trainArgs("resumed2", common + QStringList{"--batch", "16", "--nproc", "2", "--resume"}));
    QVERIFY2(onTwo.code == 0, onTwo.err.c_str());
    QVERIFY2(onTwo.out.find("resumed from") != std::string::npos, onTwo.out.c_str());
    const auto& epoch1 = oneProcessBatch32();
    QVERIFY2(epoch1.code == 0, epoch1.err.c_str());
    const auto [a, whereA] = maxDiff(plm("straight"), plm("resumed"));
    const auto [b, whereB] = maxDiff(plm("straight"), plm("resumed2"));
    const auto [moved, whereMoved] = maxDiff(plm("straight"), plm("one32eval"));  // after epoch 1 only
    qInfo("2 -> 1 process: %.3g (%s); 1 -> 2: %.3g (%s); epoch 2 moved the weights by %.3g", a, whereA.c_str(), b,
          whereB.c_str(), moved);
    QVERIFY2(a < 1e-5, whereA.c_str());
    QVERIFY2(b < 1e-5, whereB.c_str());
    QVERIFY(moved > 1e-3);
  }

  void torchrunEnvironmentWithoutNproc() {
    // Two workers started by hand with torchrun's variables: they find each other and
    // train; rank 0 writes the run, rank 1 writes nothing of its own.
    const int port = freePort();
    std::vector<std::unique_ptr<QProcess>> ranks;
    for (int r = 0; r < 2; ++r) {
      auto p = std::make_unique<QProcess>();
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("RANK", QString::number(r));
      env.insert("LOCAL_RANK", QString::number(r));
      env.insert("WORLD_SIZE", "2");
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", QString::number(port));
      p->setProcessEnvironment(env);
      p->start(PRUNELAB_CLI, trainArgs("torchrun", {"--bn-eval", "--batch", "16"}));
      ranks.push_back(std::move(p));
    }
    for (auto& p : ranks) QVERIFY(p->waitForFinished(300000));
    const std::string out0 = ranks[0]->readAllStandardOutput().toStdString();
    QVERIFY2(ranks[0]->exitCode() == 0, ranks[0]->readAllStandardError().constData());
    QVERIFY2(ranks[1]->exitCode() == 0, ranks[1]->readAllStandardError().constData());
    QVERIFY2(out0.find("rank 0 of 2") != std::string::npos, out0.c_str());
    QVERIFY(ranks[1]->readAllStandardOutput().isEmpty());  // rank 1 prints nothing
    QVERIFY(std::filesystem::exists(plm("torchrun")));
    // The same run as --nproc 2 (same seed, shards and steps).
    const auto& two = twoProcessesBatch16();
    QVERIFY2(two.code == 0, two.err.c_str());
    QVERIFY(maxDiff(plm("torchrun"), plm("two16eval")).first < 1e-6);
  }

  void killedRankIsNamed() {
    // SIGKILL rank 1 after the first checkpoint: rank 0 stops within 60 s, naming rank 1;
    // the launcher says how rank 1 died; last.plm loads.
    QProcess launcher;
    launcher.start(PRUNELAB_CLI, trainArgs("killed", {"--epochs", "200", "--batch", "16", "--nproc", "2"}));
    QVERIFY(launcher.waitForStarted());
    const std::string last = plm("killed");
    QTRY_VERIFY_WITH_TIMEOUT(std::filesystem::exists(last), 90000);
    // The workers are the launcher's children, rank 0 first.
    std::ifstream children("/proc/" + std::to_string(launcher.processId()) + "/task/" +
                           std::to_string(launcher.processId()) + "/children");
    std::vector<pid_t> pids;
    for (pid_t p; children >> p;) pids.push_back(p);
    QCOMPARE(pids.size(), size_t{2});
    const auto killed = std::chrono::steady_clock::now();
    QCOMPARE(::kill(pids[1], SIGKILL), 0);
    QVERIFY(launcher.waitForFinished(90000));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    const std::string err = launcher.readAllStandardError().toStdString();
    qInfo("stopped %.1f s after the kill:\n%s", seconds, err.c_str());
    QVERIFY(launcher.exitCode() != 0);
    QVERIFY(seconds < 60);
    QVERIFY2(err.find("rank 1 was killed by SIGKILL") != std::string::npos, err.c_str());
    QVERIFY2(err.find("rank 0") != std::string::npos && err.find("rank 1 has stopped") != std::string::npos,
             err.c_str());
    const Checkpoint ck = loadCheckpoint(last);
    QVERIFY(!ck.graph.nodes().empty());
  }

  void unreachableStoreIsAnErrorNotAHang() {
    // Rank 1 of 2 with nobody at MASTER_PORT: a clear error within the timeout.
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("RANK", "1");
    env.insert("WORLD_SIZE", "2");
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(freePort()));
    p.setProcessEnvironment(env);
    const auto start = std::chrono::steady_clock::now();
    p.start(PRUNELAB_CLI, trainArgs("nostore", {"--dist-timeout", "3"}));
    QVERIFY(p.waitForFinished(60000));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string err = p.readAllStandardError().toStdString();
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(err.find("rank 1 of 2: cannot reach the rendezvous store at 127.0.0.1:") != std::string::npos, err.c_str());
    QVERIFY(seconds < 30);
    // A half-set environment is named too.
    env.remove("RANK");
    p.setProcessEnvironment(env);
    p.start(PRUNELAB_CLI, trainArgs("norank", {}));
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 1);
    QVERIFY(p.readAllStandardError().contains("RANK"));
  }
};

QTEST_GUILESS_MAIN(TestDataParallel)
#include "test_data_parallel.moc"
