"""The pipeline's steps, one module per state of statemachine/sync.asl.json.

plan.py (split: S3 trigger + Plan task) → prepare.py → send.py (Distributed Map items) → report.py.
Handlers in functions/ are thin adapters over these.
"""
