"""Hand-written fakes of jokebot's ports: FakeClock, FakePlatform (an EffectSender)."""

from tests.fakes.clock import FakeClock
from tests.fakes.platform import FakePlatform, Message

__all__ = ["FakeClock", "FakePlatform", "Message"]
