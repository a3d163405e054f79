"""Pure inference: raw records -> interactions. No clock reads, no I/O."""

import hashlib

# Bump when inference changes what it makes of a record: stored interactions are then rebuilt.
INFERENCE_VERSION = "3"  # 2: Gmail labels feed the noise filter; 3: list copies, robots, relays, To fan-out


def inference_version(me_fingerprint: str) -> str:
    """The version stored beside derived interactions: the code's version and who "me" is."""
    return hashlib.sha1(f"{INFERENCE_VERSION}|{me_fingerprint}".encode()).hexdigest()[:12]
