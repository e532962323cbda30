"""ultralytics.utils.tal: the task-aligned assigner v8DetectionLoss keeps as `assigner`.

Only what a pickled criterion holds (the attributes __init__ sets); the assignment itself
(forward) is not part of this stand-in.
"""
import torch.nn as nn


class TaskAlignedAssigner(nn.Module):
    """Assigns ground-truth boxes to anchors by alignment = score**alpha * IoU**beta (top-k per box)."""

    def __init__(self, topk=13, num_classes=80, alpha=1.0, beta=6.0, eps=1e-9):
        super().__init__()
        self.topk = topk
        self.num_classes = num_classes
        self.bg_idx = num_classes  # the background class index
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
