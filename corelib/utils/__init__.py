"""``plugrad.utils``: data loading (``plugrad.utils.data``) and hook handles."""
from . import data, hooks  # noqa: F401
