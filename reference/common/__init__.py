"""What every reference role shares: clock, SQLite store, API errors, body validation."""
