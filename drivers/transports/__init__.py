"""Byte-level links to the tools: VISA, pyserial and Modbus, with timeouts, locks and logging."""
