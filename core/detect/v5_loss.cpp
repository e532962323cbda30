// YOLOv5 loss (see detection_loss.h). Written from the published method: targets
// are matched to anchors whose shape ratio is within anchor_t, and to the cell that
// holds the centre plus the two neighbouring cells nearest to it.

#include <ATen/ATen.h>

#include "detect/box_ops.h"
#include "detect/detection_loss.h"

namespace prunelab::detect {

namespace {

class V5Loss : public DetectionLoss {
 public:
  V5Loss(const YoloHead& h, const LossGains& g) : m_head(h) {
    const double nl = double(h.levels());
    m_box = (g.box >= 0 ? g.box : 0.05) * 3.0 / nl;
    m_cls = (g.cls >= 0 ? g.cls : 0.5) * double(h.nc) / 80.0 * 3.0 / nl;
    m_obj = (g.objOrDfl >= 0 ? g.objOrDfl : 1.0) * 3.0 / nl;  // x (imgsz / 640)^2 per call
    m_balance = h.levels() == 3 ? std::vector<double>{4.0, 1.0, 0.4} : std::vector<double>{4.0, 1.0, 0.25, 0.06, 0.02};
    m_balance.resize(h.levels(), 0.02);
  }
  std::string partName() const override { return "obj"; }

  LossParts operator()(const std::vector<at::Tensor>& raw, const at::Tensor& targetsIn, int64_t imgsz) const override {
    const auto dev = raw.at(0).device();
    const at::Tensor targets = targetsIn.to(dev);
    const int64_t bs = raw[0].size(0);
    const at::Tensor anchorsAll = m_head.anchors.to(dev);  // [nl, na, 2] grid units
    const int64_t na = anchorsAll.size(1), nt = targets.size(0);
    const auto fo = raw[0].options();
    at::Tensor lbox = at::zeros({}, fo), lobj = at::zeros({}, fo), lcls = at::zeros({}, fo);

    // Per anchor copy of the targets: [na, nt, 7] = (img, cls, cx, cy, w, h, anchor)
    const at::Tensor ai = at::arange(na, fo).view({na, 1}).repeat({1, nt});
    const at::Tensor tAll = at::cat({targets.unsqueeze(0).repeat({na, 1, 1}), ai.unsqueeze(2)}, 2);
    const double g = 0.5;
    const at::Tensor off = at::tensor({0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f, -1.0f, 0.0f, 0.0f, -1.0f}, fo).view({5, 2}) * g;

    for (size_t i = 0; i < raw.size(); ++i) {
      const at::Tensor& p = raw[i];  // [bs, na, ny, nx, no]
      const int64_t ny = p.size(2), nx = p.size(3);
      const double stride = double(m_head.strides[i]);
      const at::Tensor anchors = anchorsAll[int64_t(i)];  // [na, 2] grid units
      at::Tensor tobj = at::zeros({bs, na, ny, nx}, fo);

      if (nt > 0) {
        // Targets in grid units of this level.
        at::Tensor t = tAll.clone();
        t.narrow(2, 2, 4).div_(stride);
        const at::Tensor r = t.narrow(2, 4, 2) / anchors.unsqueeze(1);           // [na, nt, 2]
        const at::Tensor keep = at::max(r, 1.0 / r).amax(2) < m_anchorT;           // [na, nt]
        t = t.index({keep});                                                        // [m, 7]
        if (t.size(0) > 0) {
          const at::Tensor gxy = t.narrow(1, 2, 2);
          const at::Tensor gxi = at::tensor({double(nx), double(ny)}, fo) - gxy;
          const at::Tensor jk = (gxy.remainder(1.0) < g).logical_and(gxy > 1.0);   // left / up neighbour
          const at::Tensor lm = (gxi.remainder(1.0) < g).logical_and(gxi > 1.0);   // right / down neighbour
          const at::Tensor sel = at::stack({at::ones_like(jk.select(1, 0)), jk.select(1, 0), jk.select(1, 1),
                                            lm.select(1, 0), lm.select(1, 1)});     // [5, m]
          const at::Tensor tt = t.unsqueeze(0).repeat({5, 1, 1}).index({sel});       // [k, 7]
          const at::Tensor offsets = (at::zeros_like(gxy).unsqueeze(0) + off.unsqueeze(1)).index({sel});
          const at::Tensor b = tt.select(1, 0).to(at::kLong), c = tt.select(1, 1).to(at::kLong);
          const at::Tensor txy = tt.narrow(1, 2, 2), twh = tt.narrow(1, 4, 2);
          const at::Tensor gij = (txy - offsets).to(at::kLong);
          const at::Tensor gi = gij.select(1, 0).clamp(0, nx - 1), gj = gij.select(1, 1).clamp(0, ny - 1);
          const at::Tensor a = tt.select(1, 6).to(at::kLong);
          const at::Tensor tbox = at::cat({txy - at::stack({gi, gj}, 1).to(fo.dtype()), twh}, 1);

          const at::Tensor ps = p.index({b, a, gj, gi});  // [k, no]
          const at::Tensor pxy = ps.narrow(1, 0, 2).sigmoid() * 2 - 0.5;
          const at::Tensor pwh = (ps.narrow(1, 2, 2).sigmoid() * 2).pow(2) * anchors.index({a});
          const at::Tensor iouV = ciou(xywhToXyxy(at::cat({pxy, pwh}, 1)), xywhToXyxy(tbox));
          lbox = lbox + (1.0 - iouV).mean();
          tobj.index_put_({b, a, gj, gi}, iouV.detach().clamp_min(0).to(tobj.scalar_type()));
          if (m_head.nc > 1) {
            const at::Tensor pcls = ps.narrow(1, 5, m_head.nc);
            at::Tensor tc = at::zeros_like(pcls);
            tc.index_put_({at::arange(tc.size(0), b.options()), c}, 1.0);
            lcls = lcls + at::binary_cross_entropy_with_logits(pcls, tc);
          }
        }
      }
      lobj = lobj + at::binary_cross_entropy_with_logits(p.select(4, 4), tobj) * m_balance[i];
    }
    const double objScale = double(imgsz) * double(imgsz) / (640.0 * 640.0);
    return combineLoss(lbox * m_box, lobj * (m_obj * objScale), lcls * m_cls, bs);
  }

 private:
  YoloHead m_head;
  double m_box, m_cls, m_obj;
  double m_anchorT = 4.0;
  std::vector<double> m_balance;
};

}  // namespace

std::unique_ptr<DetectionLoss> makeV5Loss(const YoloHead& head, const LossGains& gains) {
  return std::make_unique<V5Loss>(head, gains);
}

}  // namespace prunelab::detect
