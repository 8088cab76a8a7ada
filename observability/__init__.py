"""Metrics, logs and traces of both processes (API.md "Operators", DESIGN.md §7).

A leaf of the layering: it imports only ``domain`` and libraries, so every layer
but the workflows (deterministic, no I/O) may count and log through it.
"""
