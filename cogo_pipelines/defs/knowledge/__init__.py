"""The knowledge pipeline (DESIGN §3): assets, their checks, the resources they use."""
