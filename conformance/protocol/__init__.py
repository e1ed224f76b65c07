"""Pure spec logic, no I/O: the one place a spec rule is written."""
