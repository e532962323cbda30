"""ultralytics.utils.loss: the detection loss a trained model carries as `criterion`.

ultralytics' BaseModel.loss() creates it on first use (DetectionModel.init_criterion) and
keeps it on the model; the trainer's validator calls it on the EMA, so a mid-training last.pt
pickles it inside 'ema'. This stand-in has the 8.3.x classes with the attributes their
__init__ sets (the pickled layout); computing the loss is not part of it.
"""
import torch
import torch.nn as nn

from .tal import TaskAlignedAssigner


class DFLoss(nn.Module):
    """Distribution focal loss over the reg_max bins of each box side."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = reg_max


class BboxLoss(nn.Module):
    """CIoU box loss plus, when reg_max > 1, the DFL term."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.dfl_loss = DFLoss(reg_max) if reg_max > 1 else None


class v8DetectionLoss:  # noqa: N801 (ultralytics' class name, lower-case first letter)
    """Box/cls/DFL training loss of a Detect head; a plain object, not an nn.Module."""

    def __init__(self, model, tal_topk=10):
        device = next(model.parameters()).device
        head = model.model[-1]  # Detect
        self.bce = nn.BCEWithLogitsLoss(reduction="none")
        self.hyp = model.args  # the trainer's IterableSimpleNamespace (box, cls, dfl gains)
        self.stride = head.stride  # the Detect's stride tensor itself, not a copy
        self.nc = head.nc
        self.no = head.nc + head.reg_max * 4
        self.reg_max = head.reg_max
        self.device = device
        self.use_dfl = head.reg_max > 1
        self.assigner = TaskAlignedAssigner(topk=tal_topk, num_classes=self.nc, alpha=0.5, beta=6.0)
        self.bbox_loss = BboxLoss(head.reg_max).to(device)
        self.proj = torch.arange(head.reg_max, dtype=torch.float, device=device)
