"""Use cases: the only code that writes. Each call: permission -> validation -> write -> audit."""
