"""The operations surface of a long-running ikm-sync: Prometheus metrics
(:mod:`scheduler.ops.metrics`) and the small HTTP port that serves them with the
health and readiness checks (:mod:`scheduler.ops.server`)."""
