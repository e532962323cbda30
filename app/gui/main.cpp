// prunelab: the desktop workbench.
//   prunelab [--demo | --demo-detector] [--model NAME|PATH] [--data SPEC] [[--project] FILE.prunelab]
//            [--story [--story-epochs S,F]] [--shots DIR] [--screenshot PATH]
// --screenshot saves the window once every queued task has finished and the view has
// settled, then quits (documentation and tests); --story runs the whole loop.

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "exec/runtime.h"
#include "gui/workbench.h"
#include "models/zoo.h"
#include "widgets/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("PruneLab");
  QApplication::setOrganizationName("PruneLab");
  QApplication::setApplicationVersion(PRUNELAB_VERSION);

  QCommandLineParser cli;
  cli.setApplicationDescription("PruneLab: structured channel pruning workbench");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addOption({"demo", "Open the demo project (ResNet-20 trained by PruneLab, on Fashion-MNIST)."});
  cli.addOption({"demo-detector", "Open the detector demo (a small YOLOv8 trained by PruneLab, on fashion-det)."});
  cli.addOption({"model", "Model: zoo name, YOLO name or yaml, .plm, .onnx, yolov5/ultralytics .pt, state_dict with --weights.", "model"});
  cli.addOption({"weights", "Weights for --model (torch.save(state_dict) or .plm).", "file"});
  cli.addOption({"num-classes", "Classes of a zoo model (default 10).", "n", "10"});
  cli.addOption({"imgsz", "Square input size for --model, a multiple of 32 (default: the model's).", "pixels", "0"});
  cli.addOption({"data", "Dataset: fashion-mnist, a folder of class folders, or a YOLO data.yaml.", "spec"});
  cli.addOption({"project", "Open a saved .prunelab project.", "file"});
  cli.addOption({"story", "Run the whole story: sparse-train, prune, fine-tune, compare, export, report."});
  cli.addOption({"story-epochs", "Sparse and fine-tune epochs of --story (default 2,2).", "s,f", "2,2"});
  cli.addOption({"shots", "With --story: a screenshot of each stage into this folder.", "dir"});
  cli.addOption({"screenshot", "Save the window to this PNG when idle and settled, then quit.", "path"});
  cli.addPositionalArgument("project", "A .prunelab project to open (as --project).", "[project]");
  cli.process(app);
  const QString project = cli.isSet("project") ? cli.value("project") : cli.positionalArguments().value(0);

  prunelab::configureThreads();
  prunelab::gui::Workbench bench;
  if (cli.isSet("screenshot") || cli.isSet("shots")) bench.window().resetLayout();  // documentation looks the same everywhere
  bench.window().show();

  if (!project.isEmpty()) {
    bench.openProject(project);
  } else if (cli.isSet("demo-detector")) {
    bench.openDemoDetector();
  } else if (cli.isSet("demo") || !cli.isSet("model")) {  // the demo is also the default
    bench.openDemo();
  }
  if (cli.isSet("model")) {
    prunelab::gui::ModelSpec m;
    m.model = cli.value("model").toStdString();
    m.weights = cli.value("weights").toStdString();
    m.numClasses = prunelab::isZooModel(m.model) ? cli.value("num-classes").toLongLong() : -1;
    m.imageSize = cli.value("imgsz").toLongLong();
    bench.openModel(m);
  }
  if (cli.isSet("data")) {
    prunelab::DataSpec d;
    d.spec = cli.value("data").toStdString();
    bench.openData(d);
  }

  const QString shot = cli.value("screenshot");
  auto finish = [&bench, shot] {
    if (shot.isEmpty()) return;
    QTimer::singleShot(2000, &bench, [&bench, shot] {  // let layout and queued replots settle
      bench.window().grab().save(shot);
      QApplication::quit();
    });
  };
  if (cli.isSet("story")) {
    const QStringList e = cli.value("story-epochs").split(',');
    bench.whenIdle([&bench, &cli, e, finish] {
      bench.runStory(e.value(0, "1").toInt(), e.value(1, "1").toInt(), cli.value("shots"));
      QObject::connect(&bench, &prunelab::gui::Workbench::storyFinished, &bench, finish, Qt::SingleShotConnection);
    });
  } else {
    bench.whenIdle(finish);
  }
  return QApplication::exec();
}
