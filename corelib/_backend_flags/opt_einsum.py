"""``torch.backends.opt_einsum``: contraction-order optimisation by the opt_einsum package when
it is installed (torch's rule); the flags are kept for programs that set and read them."""
from __future__ import annotations

from . import install



def _package():
    try:
        import opt_einsum
        return opt_einsum
    except ImportError:
        return None


def is_available() -> bool:
    return _package() is not None


def get_opt_einsum():
    return _package()


# torch: on only when the package is there
enabled = is_available()
strategy = "auto" if enabled else None

install(__name__, {"enabled": "set_enabled"})
