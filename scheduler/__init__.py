"""The APScheduler 3.x daemon: jobs, leases per channel account, the worker loop."""
