// Workbench: the demo presets (File > Demo classifier / detector) and the whole story.

#include <QFileInfo>
#include <QStandardPaths>

#include "gui/story_run.h"
#include "gui/workbench.h"
#include "gui/view_convert.h"
#include "gui/workbench_post.h"
#include "util/resources.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"
#include "widgets/train_panel.h"

namespace prunelab::gui {

void Workbench::openDemo() {
  ModelSpec m;
  const QString shipped = QString::fromStdString(resourceDir()) + "/demo/classifier.plm";
  m.model = QFileInfo::exists(shipped) ? shipped.toStdString() : std::string("resnet20");
  m.numClasses = 10;
  DataSpec d;
  d.spec = "fashion-mnist";
  d.trainLimit = 6000;  // a quick epoch on 2 cores; File > Built-in Fashion-MNIST for all
  d.valLimit = 1000;
  openData(d);
  openModel(m);
  m_window->trainPanel()->setRequest(trainRequest(demoSettings(TaskKind::Classify)));
  m_window->prunePanel()->setCriterion("bn");
  whenIdle([this] { m_window->prunePanel()->setPercent(0.4); });
  info(QString("Demo: ResNet-20 %1 on 6000 Fashion-MNIST images. Start sparse training (sr 5e-3), watch the "
               "BN gammas fall, then Apply the 40 % plan, fine-tune with sr 0, Compare and Export - or "
               "Story > Run the whole story.")
           .arg(QFileInfo::exists(shipped) ? "(trained by PruneLab, resources/demo)" : "(random init: demo model not found)"));
}

void Workbench::openDemoDetector() {
  const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/fashion-det-demo";
  post([w = m_worker, dataDir] { w->prepareFashionDet(dataDir, 1200, 300); });
  DataSpec d;
  d.spec = (dataDir + "/data.yaml").toStdString();
  openData(d);
  ModelSpec m;
  const QString shipped = QString::fromStdString(resourceDir()) + "/demo/detector.plm";
  m.model = QFileInfo::exists(shipped) ? shipped.toStdString() : std::string("yolov8n");
  m.numClasses = 10;
  m.imageSize = 160;
  openModel(m);
  m_window->trainPanel()->setRequest(trainRequest(demoSettings(TaskKind::Detect)));
  m_window->prunePanel()->setCriterion("bn");
  whenIdle([this] { m_window->prunePanel()->setPercent(0.3); });
  info("Detector demo: a small YOLOv8 trained by PruneLab on fashion-det (160 px), 1200 training images.");
}

void Workbench::runStory(int sparseEpochs, int fineTuneEpochs, const QString& shotsDir) {
  StoryOptions o;
  o.sparseEpochs = sparseEpochs;
  o.fineTuneEpochs = fineTuneEpochs;
  o.shotsDir = shotsDir;
  auto* story = new StoryRun(*this, o, this);
  connect(story, &StoryRun::finished, this, [this, story](bool, const QString&) {
    story->deleteLater();
    Q_EMIT storyFinished();
  });
  story->start();
  m_storyDir = story->runDir();
}

}  // namespace prunelab::gui
