"""The pieces of ultralytics.utils.torch_utils a trainer's checkpoint depends on: Conv+BN
folding (BaseModel.fuse), the EMA the trainer keeps, and the fp16 optimizer state it saves."""
import math
from copy import deepcopy

import torch
import torch.nn as nn


def fuse_conv_and_bn(conv, bn):
    """A Conv2d with bias equal to conv followed by bn in eval mode (bn's running statistics)."""
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, kernel_size=conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                      bias=True).requires_grad_(False).to(conv.weight.device)
    scale = bn.weight.div(torch.sqrt(bn.running_var + bn.eps))  # gamma / sqrt(var + eps), per output channel
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused.bias.copy_(scale * (conv_bias - bn.running_mean) + bn.bias)
    return fused


def copy_attr(a, b, include=(), exclude=()):
    """Copies b's public attributes onto a (those in include, if given), by reference."""
    for k, v in b.__dict__.items():
        if (include and k not in include) or k.startswith("_") or k in exclude:
            continue
        setattr(a, k, v)


class ModelEMA:
    """Exponential moving average of a model's state_dict, decay ramped by the update count."""

    def __init__(self, model, decay=0.9999, tau=2000, updates=0):
        self.ema = deepcopy(model).eval()
        self.updates = updates
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.enabled = True

    def update(self, model):
        if self.enabled:
            self.updates += 1
            d = self.decay(self.updates)
            msd = model.state_dict()
            with torch.no_grad():
                for k, v in self.ema.state_dict().items():
                    if v.dtype.is_floating_point:
                        v *= d
                        v += (1 - d) * msd[k].detach()

    def update_attr(self, model, include=(), exclude=("process_group", "reducer")):
        if self.enabled:
            copy_attr(self.ema, model, include, exclude)


def convert_optimizer_state_dict_to_fp16(state_dict):
    """The trainer's save_model() stores the optimizer's float32 state tensors (not 'step') as fp16."""
    for state in state_dict["state"].values():
        for k, v in state.items():
            if k != "step" and isinstance(v, torch.Tensor) and v.dtype is torch.float32:
                state[k] = v.half()
    return state_dict
