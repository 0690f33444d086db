"""Test support: fakes of our ports, fake platform servers, harnesses and the test stack.

Everything a test needs besides the code under test lives here, once.
"""

from tests.support.clock import FakeClock
from tests.support.platform import FakePlatform, Message

__all__ = ["FakeClock", "FakePlatform", "Message"]
