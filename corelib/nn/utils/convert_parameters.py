"""Flatten parameters into one vector and back (torch.nn.utils.convert_parameters)."""
from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor: every parameter flattened, concatenated in order (differentiable)."""
    from ...ops.movement import cat
    device = None
    vec = []
    for param in parameters:
        device = _check_param_device(param, device)
        vec.append(param.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters) -> None:
    """Point each parameter's ``.data`` at its slice of ``vec`` (the inverse of
    :func:`parameters_to_vector`); the parameters then share ``vec``'s storage."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n


def _check_param_device(param, old):
    """torch raises TypeError for parameters on two devices (cpu counts as one device)."""
    if old is None:
        return param.device
    if param.device != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old
