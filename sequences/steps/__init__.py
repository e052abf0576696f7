"""Process steps: ISA-88-like phase logic of every step of both products' routes."""
