"""A serving process freezes the objects alive after start-up, so full collections skip them."""

import gc

from posfleet.core.startup import freeze_startup_objects


def test_freeze_moves_the_live_objects_out_of_the_collectors_reach():
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
        tracked = len(gc.get_objects())
        assert tracked < gc.get_freeze_count()  # a full collection walks only what came later
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
