"""torch's ``nn.modules.fold`` path; Fold and Unfold live in :mod:`.flatten`."""
from .flatten import Fold, Unfold  # noqa: F401
