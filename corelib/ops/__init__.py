"""Differentiable ops over backend primitives, grouped by family.

Each primitive op sits beside its backward node (micrograd style); composite ops are written in
other ops and have no backward of their own (tinygrad style).
"""
