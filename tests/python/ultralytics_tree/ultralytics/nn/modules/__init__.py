from .block import C2PSA, C3k2, C2f, C3k, DFL, SPPF, Bottleneck, C3, Attention, PSABlock  # noqa: F401
from .conv import Concat, Conv, DWConv  # noqa: F401
from .head import Detect  # noqa: F401
