"""Q1 gate, gate_fix artifacts, snapshots and notifications: plain Python, no Dagster."""
