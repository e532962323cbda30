"""Conv (Conv2d + BatchNorm2d + SiLU), its depthwise form, and Concat."""
import math

import torch
import torch.nn as nn


def same_padding(k, p=None, d=1):
    if p is not None:
        return p
    k = d * (k - 1) + 1 if d > 1 else k
    return k // 2


class Conv(nn.Module):
    default_act = nn.SiLU()  # one shared instance, as in ultralytics (pickled once, then referenced)

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, same_padding(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        if act is True:
            self.act = self.default_act
        elif isinstance(act, nn.Module):
            self.act = act
        else:
            self.act = nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def forward_fuse(self, x):
        """The forward of a fused Conv (BaseModel.fuse() folds bn into conv, deletes bn and swaps this in)."""
        return self.act(self.conv(x))


class DWConv(Conv):
    def __init__(self, c1, c2, k=1, s=1, d=1, act=True):
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), d=d, act=act)


class Concat(nn.Module):
    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension

    def forward(self, x):
        return torch.cat(x, self.d)
