#pragma once
// The Sensitivity dock: runs the per-group sweep on the worker (prune
// each layer group alone at each ratio, evaluate on a validation subset) and shows it as
// a heat map, groups x ratios, colour = metric drop against the unpruned model. A click
// on a cell asks for that group's ratio in the plan (cellChosen); the workbench applies it
// with PruneModel::setLayerRatio, so the what-if updates at once.
//
// Plain Qt data only (widgets never see core): the workbench converts the core table.
// Thread: GUI thread.

#include <QString>
#include <QVector>
#include <QWidget>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace prunelab::widgets {

struct SensitivityView {
  QString metric;  // "top1", "mAP50-95", ...
  double baseline = 0.0;
  QVector<double> ratios;
  struct Row {
    QString group;
    qint64 channels = 0;
    QVector<double> metric;     // per ratio
    QVector<qint64> macs;       // per ratio: the model's MACs with only this cut
    QVector<double> latencyMs;  // per ratio, -1 when not measured
  };
  QVector<Row> rows;
  qint64 macs = 0;  // the unpruned model's
};

// The heat map itself: rows of cells under a header of ratios.
class SensitivityHeatMap : public QWidget {
  Q_OBJECT
 public:
  explicit SensitivityHeatMap(QWidget* parent = nullptr);
  void setView(const SensitivityView& v);
  const SensitivityView& view() const { return m_view; }
  QRect cellRect(int row, int column) const;  // in widget coordinates
  QSize sizeHint() const override;

 Q_SIGNALS:
  void cellClicked(int row, int column);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  bool event(QEvent* e) override;  // tooltips: metric, MACs, latency of the cell

 private:
  int labelWidth() const;
  SensitivityView m_view;
  int m_selectedRow = -1, m_selectedColumn = -1;
};

class SensitivityPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SensitivityPanel(QWidget* parent = nullptr);

  void setTable(const SensitivityView& v);
  SensitivityHeatMap* heatMap() const { return m_map; }
  // Progress of a running sweep; ETA in seconds (< 0: unknown).
  void setProgress(int done, int total, double etaSeconds);
  void setBusy(bool busy);
  // The ratios typed in the field (invalid entries are skipped), the validation subset.
  QVector<double> ratios() const;
  int valImages() const;

 Q_SIGNALS:
  void sweepRequested(const QVector<double>& ratios, int valImages);
  void cancelRequested();
  void cellChosen(const QString& group, double ratio);

 private:
  QLineEdit* m_ratios;
  QSpinBox* m_valImages;
  QPushButton* m_run;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QLabel* m_status;
  SensitivityHeatMap* m_map;
};

}  // namespace prunelab::widgets

#include <QMetaType>
Q_DECLARE_METATYPE(prunelab::widgets::SensitivityView)
