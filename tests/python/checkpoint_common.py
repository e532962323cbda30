"""Shared by the .pt checkpoint generators (yolov5_checkpoint.py, ultralytics_checkpoint.py)."""
import torch


def randomise_bn(model, seed, size):
    """Random BatchNorm affine parameters, then statistics measured on random inputs.

    Freshly built YOLOs have identity BN statistics, and with them the signal fades with
    depth until the outputs barely depend on the input (a parity test would then compare
    biases). Statistics measured after the gammas/betas are set keep every layer's output
    near unit scale; random gammas/betas and measured means/variances make a wrong BN eps,
    order or key mapping visible.
    """
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [bn.momentum for bn in bns]
    was_training = model.training
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) + 0.5)
            bn.bias.copy_(torch.randn(c, generator=g) * 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        for m in model.modules():  # head convs: biases away from their initial constants
            if isinstance(m, torch.nn.Conv2d) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.5)
        model.train()
        for _ in range(2):
            model(torch.randn(4, 3, size, size, generator=g))
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
            bn.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    model.train(was_training)
