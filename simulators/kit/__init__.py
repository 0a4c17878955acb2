"""Plumbing shared by the marketplace simulators: routing, faults, rate budgets,
webhooks, simulated buyers, state files and serving over HTTP.

A simulator is an ``httpx`` handler (``httpx.MockTransport(simulator.handler)``) for
tests and benchmarks, and the same object served on a local port for the demo and for
training.
"""
