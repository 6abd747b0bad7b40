"""Lightning callbacks: matched budgets, probes, checkpointing, attribution."""
