"""Repair services, one module per use case: faults, orders (the state machine), loaners, swaps and
prevention (inspections due, history, statistics). Callers import the module they need."""
