"""nnforge.explain: attribution maps for nnforge models, on nnforge's own GradientTape.

Every method takes a model, a batch and a target (a class index, one per sample, a callable on
the outputs, or None for the predicted class), can explain the value before a final softmax
(``output="logits"``), works for NumPy and CuPy arrays, and returns NumPy arrays::

    from nnforge import explain
    sal = explain.saliency(model, x)                      # |d score / d x|, x's shape
    ig = explain.integrated_gradients(model, x, steps=64) # x's shape
    cam = explain.grad_cam(model, x, output="logits")     # (batch, h, w) of the last conv
    rgb = explain.overlay(x[0], cam[0])                   # (H, W, 3) uint8
    print(explain.sanity_check("grad_cam", model, x))     # Adebayo et al.'s randomisation test
"""
from .gradients import saliency, smoothgrad
from .grad_cam import grad_cam, grad_cam_plus_plus
from .integrated_gradients import integrated_gradients
from .occlusion import occlusion
from .overlay import colorize, overlay
from .sanity import SanityCheckResult, sanity_check, spearman

__all__ = ["SanityCheckResult", "colorize", "grad_cam", "grad_cam_plus_plus",
           "integrated_gradients", "occlusion", "overlay", "saliency", "sanity_check",
           "smoothgrad", "spearman"]
