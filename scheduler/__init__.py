"""The APScheduler 3.x daemon: job functions, leases per channel account, worker loop."""
