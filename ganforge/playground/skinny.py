"""Faster gradients for the toy models' 2-input layers (the first layer of G and of D).

The CPU BLAS takes a slow path for a product whose right operand is a contiguous (K, 2)
matrix: `grad_out.T @ x` for the weight gradient ((128, B) @ (B, 2)) and `grad_out @ W`
for the input gradient ((B, 128) @ (128, 2)) run 4-10x slower than the same products
computed transposed. `InputLinear` is nn.Linear with the same forward and parameters
whose backward computes those two products the fast way round (identical maths; only the
order of float summation may differ).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

MAX_IN = 2  # layers with at most this many inputs take the transposed route


class _InputLinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return torch.addmm(bias, x, weight.t())                   # (B, out)

    @staticmethod
    def backward(ctx, grad: Tensor):                               # grad (B, out)
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = torch.mm(weight.t(), grad.t()).t()                # (grad @ W) as (W^T grad^T)^T
        if ctx.needs_input_grad[1]:
            gw = torch.mm(x.t(), grad).t().contiguous()            # (grad^T x) as (x^T grad)^T
        if ctx.needs_input_grad[2]:
            gb = grad.sum(0)
        return gx, gw, gb


class InputLinear(nn.Linear):
    """nn.Linear (same parameters and state_dict) with the transposed backward above."""

    def forward(self, x: Tensor) -> Tensor:
        return _InputLinearFn.apply(x, self.weight, self.bias)


def speed_up_input_layers(model: nn.Module) -> int:
    """Switch plain nn.Linear layers with <= MAX_IN inputs and a bias to InputLinear, in
    place; returns how many. Parameters, state_dict and outputs are unchanged."""
    n = 0
    for m in model.modules():
        if type(m) is nn.Linear and m.in_features <= MAX_IN and m.bias is not None and not m._forward_hooks:
            m.__class__ = InputLinear
            n += 1
    return n
