"""Conformance harness and reference simulator for verifiable credentials."""

__version__ = "0.1.0"
