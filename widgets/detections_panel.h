#pragma once
// DetectionsPanel: a handful of validation images, each twice side by side - the boxes
// of the model before the first cut and of the current model - so that anyone can see
// that the pruned detector still finds the objects. The worker fills it after every
// model change (load, Apply, undo) and after each fine-tune epoch.
// Thread: GUI thread. Never includes torch.

#include <QImage>
#include <QMetaType>
#include <QRectF>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QGridLayout;
class QLabel;

namespace prunelab::widgets {

struct DetectionBox {
  QRectF rect;  // image pixels (x1, y1, x2, y2 as a rectangle)
  int cls = 0;
  float score = 0;
};

struct DetectionSample {
  QString name;   // the image's file name
  QImage image;   // RGB, its own size
  QVector<DetectionBox> before, after;
};

struct DetectionsPreview {
  QString beforeLabel;  // the history entry of each side ("loaded detector.plm", "pruned 30 %")
  QString afterLabel;
  QStringList classNames;
  float confidence = 0.25f;
  QVector<DetectionSample> samples;
};

class DetectionsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DetectionsPanel(QWidget* parent = nullptr);

  void setPreview(const DetectionsPreview& preview);
  // No preview (a classifier, or no detection data open): shows `why` instead.
  void clear(const QString& why);
  const DetectionsPreview& preview() const { return m_preview; }
  QString hint() const;

  // `image` scaled to `side` pixels on its long side with `boxes` and "name 0.87" drawn
  // (a colour per class). Public for tests.
  static QImage render(const QImage& image, const QVector<DetectionBox>& boxes, const QStringList& names, int side);
  static QColor classColour(int cls);

 Q_SIGNALS:
  void previewChanged();  // after setPreview() or clear()

 private:
  void rebuild();

  DetectionsPreview m_preview;
  QLabel* m_hint;
  QLabel* m_header;
  QWidget* m_grid;
  QGridLayout* m_layout;
};

}  // namespace prunelab::widgets

Q_DECLARE_METATYPE(prunelab::widgets::DetectionsPreview)
