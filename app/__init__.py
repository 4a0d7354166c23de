"""Grafo: trace a small PyTorch program and show what autograd does with it."""

__version__ = "0.1.0"
