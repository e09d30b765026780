"""A section that cannot run on this host (Slurm not installed, not root)
raises Skipped(reason): bench/run reports it as skipped, with the reason, and
does not count it as failed."""


class Skipped(Exception):
    pass
