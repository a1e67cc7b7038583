"""posfleet: the back office an acquirer runs for its POS terminal fleet, and its merchants' portal."""

__version__ = "0.1.0"
