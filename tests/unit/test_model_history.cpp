// ModelHistory: undo/redo over the versions a session made, and the baseline a
// before/after comparison uses (README, Architecture: Compare's baseline is the last
// version before the first cut up to the current one).

#include <QtTest/QtTest>

#include "session/model_history.h"
#include "util/error.h"

using namespace prunelab;

namespace {
// A graph that tells versions apart by its metadata.
Graph version(const std::string& name) {
  Graph g;
  g.metadata()["model"] = name;
  return g;
}
std::string nameOf(ModelHistory& h) { return h.current().metadata().at("model"); }
}  // namespace

class TestModelHistory : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void baselineIsTheLastVersionBeforeTheFirstCut() {
    ModelHistory h;
    QVERIFY(h.empty());
    QVERIFY_THROWS_EXCEPTION(Error, h.current());
    h.reset(version("loaded"), "loaded");
    QCOMPARE(h.baseline(), 0);
    h.push(version("sparse"), "sparse-trained");
    QCOMPARE(h.baseline(), 0);  // nothing cut yet: the first version
    h.push(version("cut"), "pruned 40 %", /*bySurgery=*/true);
    QCOMPARE(h.baseline(), 1);  // the trained, unpruned model
    h.push(version("tuned"), "fine-tuned");
    QCOMPARE(h.baseline(), 1);
    h.push(version("cut2"), "pruned again", true);
    QCOMPARE(h.baseline(), 1);  // the first cut decides, not the latest
    QCOMPARE(h.size(), 5);

    // Undo to before the cut: the cut lies after the cursor and does not count.
    h.undo();
    h.undo();
    h.undo();
    QCOMPARE(nameOf(h), std::string("sparse"));
    QCOMPARE(h.baseline(), 0);
    h.redo();
    QCOMPARE(nameOf(h), std::string("cut"));
    QCOMPARE(h.baseline(), 1);

    // A new change after an undo drops the redo tail.
    h.undo();
    h.push(version("other cut"), "pruned 20 %", true);
    QCOMPARE(h.size(), 3);
    QCOMPARE(nameOf(h), std::string("other cut"));
    QCOMPARE(h.baseline(), 1);
    QCOMPARE(h.at(h.baseline())->metadata().at("model"), std::string("sparse"));
    QVERIFY_THROWS_EXCEPTION(Error, h.redo());
    h.undo();
    h.undo();
    QVERIFY_THROWS_EXCEPTION(Error, h.undo());  // at the first version

    // A version kept by a caller outlives the history's move.
    std::shared_ptr<Graph> kept = h.currentPtr();
    h.reset(version("fresh"), "loaded");
    QCOMPARE(kept->metadata().at("model"), std::string("loaded"));
    QCOMPARE(h.baseline(), 0);
  }
};

QTEST_GUILESS_MAIN(TestModelHistory)
#include "test_model_history.moc"
