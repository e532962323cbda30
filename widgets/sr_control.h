#pragma once
// SrControl: the sparsity coefficient on a log-scale slider (1e-6 .. 1e-1, plus 0 at the
// far left) tied to a spin box for exact values. valueChanged() fires on every change,
// which the owner forwards to the running trainer (it takes effect at the next step).
// Thread: GUI thread.

#include <QWidget>

class QDoubleSpinBox;
class QSlider;

namespace prunelab::widgets {

class SrControl : public QWidget {
  Q_OBJECT
 public:
  explicit SrControl(QWidget* parent = nullptr);
  double value() const { return m_value; }
  void setValue(double sr);
  QSlider* slider() const { return m_slider; }

 Q_SIGNALS:
  void valueChanged(double sr);

 private:
  static int toSlider(double sr);
  static double fromSlider(int pos);

  QSlider* m_slider;
  QDoubleSpinBox* m_spin;
  double m_value = 0.0;
  bool m_syncing = false;
};

}  // namespace prunelab::widgets
