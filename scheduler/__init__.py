"""Running account work: the account-job runner (lease → connector → service →
run), the jobs, holding leases; later the APScheduler daemon and its worker loop."""
