"""Console screens for cases: queues, detail with review and work actions, inspection, finance."""
