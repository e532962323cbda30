"""BatchNorm statistics for reference models: calibrated on data, then perturbed.

Statistics drawn independently of the data (mean N(0, 0.2), var U(0.5, 2)) with PyTorch's
default conv init make deep nets almost ignore their input: the BN offsets dominate, the
output of MobileNetV2 or VGG-11-BN moves by < 1e-4 when the input is replaced by zeros,
and an executor that ignored its input would pass a 1e-4 parity test. Here every BN is
calibrated on a batch of data in forward order (a pre-hook sees the input the BN actually
gets) and then perturbed per channel so that a wrong BN formula still shows:
  running_mean = mean + N(0, 0.2) * sd,   running_var = gain * v * U(0.5, 2),
  weight U(0.5, 1.5),  bias N(0, 0.1),    v = var + 0.1 * mean_c(var), sd = sqrt(v).
The calibration batch should not be the reference input itself and should have several
samples: at 1x1 spatial size (ResNet-18/34 at 32 px) the variance of a 2-sample batch is
tiny and the normalisation then amplifies float32 rounding past the tolerance.
"""
import torch


def calibrate_bn(model, gen, data, gain):
    """Sets every BatchNorm2d's statistics and affine parameters from one eval pass on `data`."""

    def pre_hook(bn, inputs):
        t = inputs[0]
        c = bn.num_features
        mean = t.mean((0, 2, 3))
        var = t.var((0, 2, 3), unbiased=False)
        v = var + 0.1 * var.mean()
        bn.running_mean.copy_(mean + torch.randn(c, generator=gen) * 0.2 * v.sqrt())
        bn.running_var.copy_(gain * v * (torch.rand(c, generator=gen) * 1.5 + 0.5))
        bn.weight.copy_(torch.rand(c, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(c, generator=gen) * 0.1)
        bn.num_batches_tracked.fill_(7)

    hooks = [m.register_forward_pre_hook(pre_hook) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(data)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
