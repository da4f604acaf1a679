"""What only the standalone app (`app.py`) uses around the extension: JSON request logs, health
checks for load balancers, and the security headers of a site of its own."""
