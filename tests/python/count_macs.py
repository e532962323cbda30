#!/usr/bin/python3
"""An independent multiply-accumulate count for PruneLab's built-in models (issue 15).

PyTorch forward hooks on the reference definitions (torchvision, reference_models.py,
yolov5_reference.py, ultralytics_tree/) count what PruneLab's two conventions count
(core/analysis/cost.h), per sample:
  torchinfo  (classifiers)  Conv2d and Linear: (weight + bias elements) x output positions;
                            BatchNorm2d: its parameter count (2C); every other op 0
  folded-bn  (detectors)    Conv2d and Linear as above; BatchNorm2d: one per output element
Prints "model macs" lines; tests/unit/test_zoo.cpp and test_yolo.cpp assert these exactly.
Run with Debian's /usr/bin/python3: python3 tests/python/count_macs.py [model ...]
"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "ultralytics_tree"))
from reference_models import CifarResNet, CifarVGG  # noqa: E402


def count(model, size, folded_bn):
    total = [0]

    def positions(out, first):
        n = 1
        for d in out.shape[first:]:
            n *= d
        return n

    def hook(m, _inputs, out):
        params = sum(p.numel() for p in m.parameters(recurse=False))
        if isinstance(m, torch.nn.Conv2d):
            total[0] += params * positions(out, 2)
        elif isinstance(m, torch.nn.Linear):
            total[0] += params * positions(out, 1) // out.shape[-1]  # rows: every dim but batch and features
        elif isinstance(m, torch.nn.BatchNorm2d):
            total[0] += m.num_features * positions(out, 2) if folded_bn else params

    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return total[0]


def seed001_resnet18():
    """Seed 001's pruned model: torchvision ResNet-18 (10 classes) with layer2.0.conv1 cut to 103 channels."""
    m = torchvision.models.resnet18(num_classes=10)
    b = m.layer2[0]
    b.conv1 = torch.nn.Conv2d(64, 103, 3, 2, 1, bias=False)
    b.bn1 = torch.nn.BatchNorm2d(103)
    b.conv2 = torch.nn.Conv2d(103, 128, 3, 1, 1, bias=False)
    return m


def yolov5(name):
    import yolov5_reference
    return yolov5_reference.build_model(name, 80)


def ultralytics_model(name):
    from ultralytics.nn.tasks import DetectionModel
    return DetectionModel(os.path.join(HERE, "..", "..", "resources", "models", name + ".yaml"), ch=3, nc=80)


MODELS = {
    # name: (factory, input size, folded_bn)
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), 32, False),
    "resnet20": (lambda: CifarResNet(20), 32, False),
    "resnet56": (lambda: CifarResNet(56), 32, False),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(num_classes=10), 224, False),
    "resnet34": (lambda: torchvision.models.resnet34(num_classes=10), 32, False),
    "vgg11_bn": (lambda: CifarVGG(11), 32, False),
    "vgg16_bn": (lambda: CifarVGG(16), 32, False),
    "resnet18_seed001": (seed001_resnet18, 32, False),
    "yolov5n": (lambda: yolov5("yolov5n"), 640, True),
    "yolov5s": (lambda: yolov5("yolov5s"), 640, True),
    "yolov8n": (lambda: ultralytics_model("yolov8n"), 640, True),
    "yolov8s": (lambda: ultralytics_model("yolov8s"), 640, True),
    "yolo11n": (lambda: ultralytics_model("yolo11n"), 640, True),
    "yolo11s": (lambda: ultralytics_model("yolo11s"), 640, True),
}

# The larger scales (test_yolo's rows for yolov8m/l/x and yolo11m/l/x).
for _name in ("yolov8m", "yolov8l", "yolov8x", "yolo11m", "yolo11l", "yolo11x"):
    MODELS[_name] = (lambda n=_name: ultralytics_model(n), 640, True)


def main():
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        factory, size, folded = MODELS[name]
        print(name, count(factory(), size, folded), flush=True)


if __name__ == "__main__":
    main()
