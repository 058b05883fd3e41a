"""Thin HTTP layer: parameters in, a service call, a model out."""
