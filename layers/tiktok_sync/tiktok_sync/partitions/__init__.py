"""Stage 2 — partitioning: hashed records written to hash-partitioned parts, so each sender gets whole
events (and, for mirror audiences, whole ids) in one place."""
