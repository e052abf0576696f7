"""Protocol fronts: the byte side of a simulated tool (SCPI, Modbus, framed and line ASCII)."""
