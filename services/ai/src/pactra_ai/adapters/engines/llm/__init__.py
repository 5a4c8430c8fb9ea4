"""The LLM engine: an OpenAI-compatible provider, for workspaces that choose it."""
