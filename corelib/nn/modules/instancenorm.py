"""torch's ``nn.modules.instancenorm`` path; the instance norms live in :mod:`.normalization`
and their lazy forms in :mod:`.lazy`."""
from .lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: F401
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
