"""Stage 1 — reading and normalizing input: which files a run reads, streaming them (whole or by byte
range), validating rows, normalizing and hashing identifiers. Plaintext exists only here, in memory."""
