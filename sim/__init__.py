"""packline simulators: every line tool's host interface served on a real endpoint, with a
process model behind it, a shared world of strips, and fault injection.

This package stands alone: it imports nothing of drivers/, sequences/ or packline/.
"""
