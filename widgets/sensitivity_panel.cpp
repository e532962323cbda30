#include "widgets/sensitivity_panel.h"

#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>

#include "widgets/format.h"
#include "widgets/palette.h"

namespace prunelab::widgets {

namespace {

constexpr int kRowHeight = 20, kCellWidth = 52, kHeaderHeight = 22, kPad = 6;

// White (no drop) to red (the largest drop in the table): what costs most stands out.
QColor dropColour(double drop, double worst) { return palette::cost(worst > 0 ? drop / worst : 0.0); }

}  // namespace

SensitivityHeatMap::SensitivityHeatMap(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void SensitivityHeatMap::setView(const SensitivityView& v) {
  m_view = v;
  m_selectedRow = m_selectedColumn = -1;
  updateGeometry();
  setMinimumHeight(sizeHint().height());
  update();
}

int SensitivityHeatMap::labelWidth() const {
  int w = 80;
  for (const auto& r : m_view.rows) w = std::max(w, fontMetrics().horizontalAdvance(r.group) + 2 * kPad);
  return w;
}

QSize SensitivityHeatMap::sizeHint() const {
  return {labelWidth() + static_cast<int>(m_view.ratios.size()) * kCellWidth + kPad,
          kHeaderHeight + static_cast<int>(m_view.rows.size()) * kRowHeight + kPad};
}

QRect SensitivityHeatMap::cellRect(int row, int column) const {
  return {labelWidth() + column * kCellWidth, kHeaderHeight + row * kRowHeight, kCellWidth - 1, kRowHeight - 1};
}

void SensitivityHeatMap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (m_view.rows.isEmpty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(kPad, kPad, -kPad, -kPad), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               "No sweep yet. Run: each layer group is pruned alone at each ratio and evaluated on the "
               "validation subset. Then click a cell to take that group's ratio into the plan.");
    return;
  }
  double worst = 0;
  for (const auto& r : m_view.rows)
    for (double m : r.metric) worst = std::max(worst, m_view.baseline - m);
  p.setPen(palette().color(QPalette::Text));
  const int lw = labelWidth();
  p.drawText(QRect(kPad, 0, lw - kPad, kHeaderHeight), Qt::AlignVCenter | Qt::AlignLeft,
             QString("%1 drop (points)").arg(m_view.metric));
  for (int c = 0; c < m_view.ratios.size(); ++c)
    p.drawText(QRect(lw + c * kCellWidth, 0, kCellWidth, kHeaderHeight), Qt::AlignCenter,
               QString("%1 %").arg(100 * m_view.ratios[c], 0, 'f', 0));
  for (int r = 0; r < m_view.rows.size(); ++r) {
    const auto& row = m_view.rows[r];
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(kPad, kHeaderHeight + r * kRowHeight, lw - kPad, kRowHeight), Qt::AlignVCenter | Qt::AlignLeft,
               row.group);
    for (int c = 0; c < row.metric.size(); ++c) {
      const double drop = m_view.baseline - row.metric[c];
      const QRect cell = cellRect(r, c);
      p.fillRect(cell, dropColour(drop, worst));
      p.setPen(Qt::black);
      p.drawText(cell, Qt::AlignCenter, QString::number(100 * drop, 'f', 1));
      if (r == m_selectedRow && c == m_selectedColumn) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.drawRect(cell.adjusted(1, 1, -1, -1));
      }
    }
  }
}

void SensitivityHeatMap::mousePressEvent(QMouseEvent* e) {
  for (int r = 0; r < m_view.rows.size(); ++r)
    for (int c = 0; c < m_view.rows[r].metric.size(); ++c)
      if (cellRect(r, c).contains(e->position().toPoint())) {
        m_selectedRow = r;
        m_selectedColumn = c;
        update();
        Q_EMIT cellClicked(r, c);
        return;
      }
  QWidget::mousePressEvent(e);
}

bool SensitivityHeatMap::event(QEvent* e) {
  if (e->type() != QEvent::ToolTip) return QWidget::event(e);
  const auto* help = static_cast<QHelpEvent*>(e);
  for (int r = 0; r < m_view.rows.size(); ++r)
    for (int c = 0; c < m_view.rows[r].metric.size(); ++c) {
      if (!cellRect(r, c).contains(help->pos())) continue;
      const auto& row = m_view.rows[r];
      QString tip = QString("%1 at %2 %: %3 %4 (unpruned %5)\nMACs %6 (%7 % of the model)")
                        .arg(row.group)
                        .arg(100 * m_view.ratios.value(c), 0, 'f', 0)
                        .arg(m_view.metric)
                        .arg(row.metric[c], 0, 'f', 4)
                        .arg(m_view.baseline, 0, 'f', 4)
                        .arg(formatCount(row.macs.value(c)))
                        .arg(m_view.macs ? 100.0 * double(row.macs.value(c)) / double(m_view.macs) : 0.0, 0, 'f', 1);
      if (row.latencyMs.value(c, -1) >= 0) tip += QString("\nlatency %1 ms (batch 1, measured)").arg(row.latencyMs[c], 0, 'f', 2);
      QToolTip::showText(help->globalPos(), tip, this);
      return true;
    }
  QToolTip::hideText();
  e->ignore();
  return true;
}

SensitivityPanel::SensitivityPanel(QWidget* parent)
    : QWidget(parent), m_ratios(new QLineEdit("0.1, 0.3, 0.5, 0.7, 0.9", this)), m_valImages(new QSpinBox(this)),
      m_run(new QPushButton("Sweep", this)), m_cancel(new QPushButton("Cancel", this)),
      m_progress(new QProgressBar(this)), m_status(new QLabel(this)), m_map(new SensitivityHeatMap(this)) {
  m_ratios->setToolTip("Fractions of each group's channels to remove, one cut at a time");
  m_valImages->setRange(0, 1000000);
  m_valImages->setValue(1000);
  m_valImages->setSpecialValueText("all");
  m_valImages->setToolTip("Validation images each cut is evaluated on (a seeded subset; 0 = all)");
  m_run->setToolTip("Prune each layer group alone at each ratio with the current criterion and evaluate it "
                    "(prunelab-cli sensitivity)");
  m_cancel->setEnabled(false);
  m_progress->setVisible(false);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Ratios", this));
  controls->addWidget(m_ratios, 1);
  controls->addWidget(new QLabel("Val images", this));
  controls->addWidget(m_valImages);
  controls->addWidget(m_run);
  controls->addWidget(m_cancel);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(m_map);
  scroll->setWidgetResizable(true);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(m_progress);
  layout->addWidget(m_status);
  layout->addWidget(scroll, 1);
  m_status->setText("Click a cell to set that group's ratio in the plan.");
  connect(m_run, &QPushButton::clicked, this, [this] {
    const QVector<double> r = ratios();
    if (r.isEmpty()) {
      m_status->setText("Ratios: give fractions in (0, 1), e.g. 0.1, 0.5, 0.9");
      return;
    }
    Q_EMIT sweepRequested(r, m_valImages->value());
  });
  connect(m_cancel, &QPushButton::clicked, this, &SensitivityPanel::cancelRequested);
  connect(m_map, &SensitivityHeatMap::cellClicked, this, [this](int row, int column) {
    const SensitivityView& v = m_map->view();
    const auto& r = v.rows.at(row);
    m_status->setText(QString("%1: ratio %2 % in the plan (predicted %3 drop %4 points)")
                          .arg(r.group)
                          .arg(100 * v.ratios.at(column), 0, 'f', 0)
                          .arg(v.metric)
                          .arg(100 * (v.baseline - r.metric.at(column)), 0, 'f', 1));
    Q_EMIT cellChosen(r.group, v.ratios.at(column));
  });
}

QVector<double> SensitivityPanel::ratios() const {
  QVector<double> out;
  for (const QString& part : m_ratios->text().split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const double v = part.trimmed().toDouble(&ok);
    if (ok && v > 0 && v < 1) out.push_back(v);
  }
  return out;
}

int SensitivityPanel::valImages() const { return m_valImages->value(); }

void SensitivityPanel::setTable(const SensitivityView& v) {
  m_map->setView(v);
  m_status->setText(QString("%1 groups x %2 ratios; %3 of the unpruned model %4. Click a cell to set that group's "
                            "ratio in the plan.")
                        .arg(v.rows.size())
                        .arg(v.ratios.size())
                        .arg(v.metric)
                        .arg(v.baseline, 0, 'f', 4));
}

void SensitivityPanel::setProgress(int done, int total, double etaSeconds) {
  m_progress->setVisible(true);
  m_progress->setRange(0, std::max(total, 1));
  m_progress->setValue(done);
  m_status->setText(etaSeconds >= 0 ? QString("cut %1 of %2, about %3 s left").arg(done).arg(total).arg(etaSeconds, 0, 'f', 0)
                                    : QString("cut %1 of %2").arg(done).arg(total));
}

void SensitivityPanel::setBusy(bool busy) {
  m_run->setEnabled(!busy);
  m_cancel->setEnabled(busy);
  if (!busy) m_progress->setVisible(false);
}

}  // namespace prunelab::widgets
