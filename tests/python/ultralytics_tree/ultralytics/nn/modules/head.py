"""The anchor-free YOLOv8/YOLO11 Detect head (box branch cv2, class branch cv3, DFL)."""
import torch
import torch.nn as nn

from .block import DFL
from .conv import Conv, DWConv


class Detect(nn.Module):
    dynamic = False
    export = False
    format = None
    end2end = False
    max_det = 300
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)
    legacy = False

    def __init__(self, nc=80, ch=()):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = 16
        self.no = nc + self.reg_max * 4
        self.stride = torch.zeros(self.nl)
        box_ch = max(16, ch[0] // 4, self.reg_max * 4)
        cls_ch = max(ch[0], min(self.nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(x, box_ch, 3), Conv(box_ch, box_ch, 3), nn.Conv2d(box_ch, 4 * self.reg_max, 1)) for x in ch)
        if self.legacy:  # YOLOv8: two 3x3 convs
            self.cv3 = nn.ModuleList(
                nn.Sequential(Conv(x, cls_ch, 3), Conv(cls_ch, cls_ch, 3), nn.Conv2d(cls_ch, self.nc, 1)) for x in ch)
        else:  # YOLO11: depthwise 3x3 + pointwise, twice
            self.cv3 = nn.ModuleList(
                nn.Sequential(nn.Sequential(DWConv(x, x, 3), Conv(x, cls_ch, 1)),
                              nn.Sequential(DWConv(cls_ch, cls_ch, 3), Conv(cls_ch, cls_ch, 1)),
                              nn.Conv2d(cls_ch, self.nc, 1)) for x in ch)
        self.dfl = DFL(self.reg_max) if self.reg_max > 1 else nn.Identity()

    def forward(self, x):
        """Raw per-level outputs [bs, 4*reg_max + nc, ny, nx] (what training and PruneLab's raw outputs are)."""
        return [torch.cat((self.cv2[i](x[i]), self.cv3[i](x[i])), 1) for i in range(self.nl)]
