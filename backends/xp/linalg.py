"""matmul and the fused ``addmm_act`` epilogue (optional contract kernels, for speed)."""
from __future__ import annotations

import math


class Linalg:

    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    def addmm_act(self, bias, m1, m2, act):
        xp = self.xp
        out = xp.matmul(m1, m2)
        out += bias
        if act == "relu":
            xp.maximum(out, 0, out=out)
        elif act == "gelu":  # torch's exact gelu: x/2 * (1 + erf(x/sqrt(2)))
            out = out * (self.erf(out * (1 / math.sqrt(2))) + 1) * 0.5
        return out
