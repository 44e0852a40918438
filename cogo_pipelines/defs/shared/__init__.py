"""Resources every concern uses (the Postgres store)."""
