"""Health, readiness and metrics for an operator's monitoring, on DSR_HTTP_LISTEN."""
