"""Pure analysis: interactions and ``now`` in, contacts and flags out. No clock reads, no I/O."""
