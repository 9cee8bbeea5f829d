"""torch's ``nn.modules.channelshuffle`` path; ChannelShuffle lives in :mod:`.extra_layers`."""
from .extra_layers import ChannelShuffle  # noqa: F401
