"""The ai service's rules in plain Python: what an analysis holds, the life of an analysis job,
and what a workspace's AI settings allow. No framework, database or broker here."""
