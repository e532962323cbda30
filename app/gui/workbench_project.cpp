// Workbench: project files (.prunelab, JSON): the model and data specs, a native checkpoint
// next to the file, the pending plan, the prune and train settings.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "gui/workbench.h"
#include "pruning/plan_log.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"
#include "widgets/train_panel.h"

namespace prunelab::gui {

bool Workbench::saveProject(const QString& path) {
  const QString checkpoint = QFileInfo(path).absolutePath() + "/" + QFileInfo(path).completeBaseName() + ".plm";
  exportModel("native", checkpoint);
  QJsonObject o;
  o["format"] = "prunelab-project";
  o["version"] = 1;
  o["model"] = QJsonObject{{"spec", QString::fromStdString(m_modelSpec.model)},
                           {"num_classes", static_cast<qint64>(m_modelSpec.numClasses)},
                           {"weights", QString::fromStdString(m_modelSpec.weights)}};
  o["checkpoint"] = QFileInfo(checkpoint).fileName();
  o["data"] = QJsonObject{{"spec", QString::fromStdString(m_dataSpec.spec)},
                          {"train_limit", static_cast<qint64>(m_dataSpec.trainLimit)},
                          {"val_limit", static_cast<qint64>(m_dataSpec.valLimit)}};
  o["run_dir"] = m_runDir;
  // The plan in the surgery log's one JSON form (pruning/plan_log.h), as pruned .plm files hold it.
  const QJsonArray plan =
      QJsonDocument::fromJson(QByteArray::fromStdString(surgeryLogJson(
                                  m_prune.hasGraph() ? m_prune.planLog() : std::vector<SurgeryLogEntry>{})))
          .array();
  const widgets::PrunePanel* p = m_window->prunePanel();
  o["prune"] = QJsonObject{{"criterion", p->criterion()},         {"percent", p->percent()},
                           {"round_to", p->roundTo()},             {"min_channels", p->minChannels()},
                           {"normalize", p->normalization()},      {"yaml_widths", p->yamlWidths()},
                           {"plan", plan}};
  o["history"] = QString::fromStdString(m_model.label);
  const widgets::TrainRequest t = m_window->trainPanel()->request();
  o["train"] = QJsonObject{{"epochs", t.epochs}, {"batch", t.batch}, {"lr", t.lr}, {"sr", t.sr}};
  QSaveFile f(path);  // temp file + rename: an existing project survives a failed save
  if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(o).toJson()) < 0 || !f.commit()) {
    fail("Save project", path + ": " + f.errorString());
    return false;
  }
  info("Saved project " + path);
  return true;
}

void Workbench::openProject(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return fail("Open project", path + ": " + f.errorString());
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
  const QJsonObject o = doc.object();
  if (doc.isNull() || o["format"].toString() != "prunelab-project")
    return fail("Open project", path + ": not a PruneLab project (" + err.errorString() + ")");
  const QJsonObject data = o["data"].toObject();
  DataSpec d;
  d.spec = data["spec"].toString("fashion-mnist").toStdString();
  d.trainLimit = data["train_limit"].toInteger();
  d.valLimit = data["val_limit"].toInteger();
  openData(d);
  const QJsonObject model = o["model"].toObject();
  ModelSpec m;
  const QString ck = QFileInfo(path).absoluteDir().filePath(o["checkpoint"].toString());
  m.model = QFileInfo::exists(ck) ? ck.toStdString() : model["spec"].toString().toStdString();
  m.numClasses = QFileInfo::exists(ck) ? -1 : model["num_classes"].toInteger(-1);
  m.weights = QFileInfo::exists(ck) ? std::string() : model["weights"].toString().toStdString();
  const QJsonObject prune = o["prune"].toObject();
  try {
    m_pendingPlan = surgeryLogFromJson(QJsonDocument(prune["plan"].toArray()).toJson().toStdString(), path.toStdString());
  } catch (const std::exception& e) {
    return fail("Open project", QString::fromStdString(e.what()));
  }
  widgets::PrunePanel* p = m_window->prunePanel();
  p->setCriterion(prune["criterion"].toString("bn"));
  // Every setting it saved; the plan itself comes back from "plan" once the model is open.
  p->restoreSettings(prune["round_to"].toInt(1), prune["min_channels"].toInt(1), prune["normalize"].toString("auto"),
                     prune["yaml_widths"].toBool(false));
  // The percent is shown once the model's scores are back (Workbench::onScores), beside the
  // saved plan: showing it now would plan that percent over it.
  m_pendingPercent = prune["percent"].toDouble(0);
  const QJsonObject t = o["train"].toObject();
  widgets::TrainRequest r = m_window->trainPanel()->request();
  r.epochs = t["epochs"].toInt(r.epochs);
  r.batch = t["batch"].toInt(r.batch);
  r.lr = t["lr"].toDouble(r.lr);
  r.sr = t["sr"].toDouble(r.sr);
  m_window->trainPanel()->setRequest(r);
  m_runDir = o["run_dir"].toString();
  openModel(m);
  info("Opened project " + path);
}

}  // namespace prunelab::gui
