"""Run state: run identity and claims, where a run's files live, the batch ledger."""
