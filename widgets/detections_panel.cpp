#include "widgets/detections_panel.h"

#include <QGridLayout>
#include <QLabel>
#include <QPainter>
#include <QScrollArea>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace prunelab::widgets {

namespace {

constexpr int kSide = 240;  // pixels per drawn image (fashion-det's 160 px images grow a little)

QString countText(const QVector<DetectionBox>& boxes) {
  return boxes.size() == 1 ? QStringLiteral("1 box") : QStringLiteral("%1 boxes").arg(boxes.size());
}

}  // namespace

DetectionsPanel::DetectionsPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(4, 4, 4, 4);
  m_header = new QLabel(this);
  m_header->setWordWrap(true);
  m_header->setTextFormat(Qt::PlainText);
  m_hint = new QLabel(this);
  m_hint->setWordWrap(true);
  m_hint->setAlignment(Qt::AlignCenter);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  m_grid = new QWidget(scroll);
  m_layout = new QGridLayout(m_grid);
  m_layout->setSpacing(6);
  scroll->setWidget(m_grid);
  outer->addWidget(m_header);
  outer->addWidget(m_hint);
  outer->addWidget(scroll, 1);
  clear(tr("Open a detector and YOLO data to see its detections here."));
}

QString DetectionsPanel::hint() const { return m_hint->isHidden() ? QString() : m_hint->text(); }

void DetectionsPanel::clear(const QString& why) {
  m_preview = {};
  m_hint->setText(why);
  m_hint->show();
  m_header->hide();
  rebuild();
  Q_EMIT previewChanged();
}

void DetectionsPanel::setPreview(const DetectionsPreview& preview) {
  m_preview = preview;
  m_hint->hide();
  m_header->setText(tr("Boxes at confidence ≥ %1 on %2 validation images. Left: before the first cut (%3). "
                       "Right: now (%4).")
                        .arg(double(preview.confidence), 0, 'g', 2)
                        .arg(preview.samples.size())
                        .arg(preview.beforeLabel, preview.afterLabel));
  m_header->show();
  rebuild();
  Q_EMIT previewChanged();
}

void DetectionsPanel::rebuild() {
  while (QLayoutItem* item = m_layout->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  if (m_preview.samples.isEmpty()) return;
  // Two samples a row, each as a before/after pair with a caption under it.
  const int pairsPerRow = 2;
  for (int i = 0; i < m_preview.samples.size(); ++i) {
    const DetectionSample& s = m_preview.samples[i];
    const int row = (i / pairsPerRow) * 2, col = (i % pairsPerRow) * 2;
    const std::pair<const QVector<DetectionBox>*, QString> sides[] = {{&s.before, tr("before")}, {&s.after, tr("now")}};
    for (int k = 0; k < 2; ++k) {
      auto* picture = new QLabel(m_grid);
      picture->setPixmap(QPixmap::fromImage(render(s.image, *sides[k].first, m_preview.classNames, kSide)));
      picture->setObjectName(QStringLiteral("detections_%1_%2").arg(i).arg(k ? "after" : "before"));
      auto* caption = new QLabel(QStringLiteral("%1 - %2: %3").arg(s.name, sides[k].second, countText(*sides[k].first)),
                                 m_grid);
      m_layout->addWidget(picture, row, col + k, Qt::AlignCenter);
      m_layout->addWidget(caption, row + 1, col + k, Qt::AlignHCenter | Qt::AlignTop);
    }
  }
  m_layout->setRowStretch(m_layout->rowCount(), 1);
}

QColor DetectionsPanel::classColour(int cls) {
  static const QColor kColours[] = {QColor(255, 56, 56),  QColor(255, 157, 151), QColor(255, 112, 31), QColor(255, 178, 29),
                                    QColor(207, 210, 49), QColor(72, 249, 10),   QColor(146, 204, 23), QColor(61, 219, 134),
                                    QColor(0, 188, 211),  QColor(100, 115, 255), QColor(0, 24, 236),   QColor(132, 56, 255)};
  return kColours[std::abs(cls) % int(sizeof kColours / sizeof kColours[0])];
}

QImage DetectionsPanel::render(const QImage& image, const QVector<DetectionBox>& boxes, const QStringList& names,
                               int side) {
  if (image.isNull()) return {};
  const double scale = double(side) / std::max(image.width(), image.height());
  QImage out = image.scaled(int(std::lround(image.width() * scale)), int(std::lround(image.height() * scale)),
                            Qt::KeepAspectRatio, Qt::SmoothTransformation)
                   .convertToFormat(QImage::Format_RGB32);
  QPainter p(&out);
  p.setRenderHint(QPainter::Antialiasing);
  QFont font = p.font();
  font.setPixelSize(11);
  p.setFont(font);
  const QFontMetrics fm(font);
  for (const DetectionBox& b : boxes) {
    const QColor colour = classColour(b.cls);
    const QRectF r(b.rect.left() * scale, b.rect.top() * scale, b.rect.width() * scale, b.rect.height() * scale);
    p.setPen(QPen(colour, 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(r);
    const QString name = b.cls >= 0 && b.cls < names.size() ? names[b.cls] : QString::number(b.cls);
    const QString label = QStringLiteral("%1 %2").arg(name).arg(double(b.score), 0, 'f', 2);
    const QRectF text(r.left(), std::max(0.0, r.top() - fm.height()), fm.horizontalAdvance(label) + 4, fm.height());
    p.fillRect(text, colour);
    p.setPen(Qt::white);
    p.drawText(text.adjusted(2, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, label);
  }
  return out;
}

}  // namespace prunelab::widgets
