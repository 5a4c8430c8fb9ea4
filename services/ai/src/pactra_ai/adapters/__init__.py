"""What the ai service talks to: its tables, the gateway and the documents service, the plan's
quotas, and the analysis engines (offline and LLM)."""
