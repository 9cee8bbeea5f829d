"""The conformance kit's program builder (plugrad.plugins.conformance.programs), bound to a
device name for the tests."""
from __future__ import annotations

from plugrad.plugins import get_registry
from plugrad.plugins.conformance.programs import ProgramBuilder as _Builder
from plugrad.plugins.conformance.programs import Scalar, replay

__all__ = ["ProgramBuilder", "Scalar", "replay"]


class ProgramBuilder(_Builder):
    """``ProgramBuilder('opencl')``: the kit's builder on that device's dispatch table."""

    def __init__(self, device):
        super().__init__(get_registry().table(device))
