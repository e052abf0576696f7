"""Fixtures every unit test module may ask for by name."""

from tests.support.expected_protocol import protocol

__all__ = ["protocol"]  # the scripted-peer bench of the driver tests
