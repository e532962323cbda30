#include "widgets/sr_control.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QSlider>
#include <cmath>

namespace prunelab::widgets {

namespace {
constexpr int kMin = -600, kMax = -100;  // hundredths of log10(sr); kMin means 0
}

SrControl::SrControl(QWidget* parent) : QWidget(parent), m_slider(new QSlider(Qt::Horizontal, this)),
                                        m_spin(new QDoubleSpinBox(this)) {
  m_slider->setRange(kMin, kMax);
  m_slider->setToolTip("sr, log scale: 0 (left), 1e-5, 1e-4, 1e-3, 1e-2, 0.1 (right)");
  m_spin->setDecimals(6);
  m_spin->setRange(0.0, 0.1);
  m_spin->setSingleStep(1e-5);
  m_spin->setToolTip("BN-gamma L1 coefficient (Network Slimming sr); applies at the next training step");
  auto* l = new QHBoxLayout(this);
  l->setContentsMargins(0, 0, 0, 0);
  l->addWidget(m_slider, 1);
  l->addWidget(m_spin);
  connect(m_slider, &QSlider::valueChanged, this, [this](int pos) {
    if (!m_syncing) setValue(fromSlider(pos));
  });
  connect(m_spin, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!m_syncing) setValue(v);
  });
  setValue(0.0);
}

int SrControl::toSlider(double sr) {
  if (sr <= 1e-6) return kMin;
  return std::clamp(static_cast<int>(std::lround(std::log10(sr) * 100)), kMin, kMax);
}

double SrControl::fromSlider(int pos) {
  if (pos <= kMin) return 0.0;
  const double v = std::pow(10.0, pos / 100.0);
  const double scale = std::pow(10.0, std::floor(std::log10(v)) - 1);  // two significant digits
  return std::round(v / scale) * scale;
}

void SrControl::setValue(double sr) {
  sr = std::clamp(sr, 0.0, 0.1);
  m_syncing = true;
  m_slider->setValue(toSlider(sr));
  m_spin->setValue(sr);
  m_syncing = false;
  if (sr == m_value) return;
  m_value = sr;
  Q_EMIT valueChanged(sr);
}

}  // namespace prunelab::widgets
