"""Local stand-ins for remote services (started by fixtures, bound to 127.0.0.1, stopped afterwards)."""
