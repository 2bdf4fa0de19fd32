"""numba policy for every kernel: one place, so no kernel hard-codes its own flags.

``FASTMATH`` stays False: every kernel here sits on a parity path that must match an oracle bit
for bit, and fast-math reassociates floating-point sums.
"""

FASTMATH = False
