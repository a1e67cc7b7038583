import logging

import structlog


class TestLogging:
    def test_secret_keys_are_redacted(self, caplog):
        caplog.set_level(logging.INFO)
        handler = logging.getLogger().handlers[0]
        record_text = []

        class Capture(logging.Handler):
            def emit(self, record):
                record_text.append(handler.format(record))

        capture = Capture()
        logging.getLogger("posfleet.test").addHandler(capture)
        try:
            structlog.get_logger("posfleet.test").info(
                "merchant created", settlement_card="6222021234567890128"
            )
        finally:
            logging.getLogger("posfleet.test").removeHandler(capture)
        assert record_text
        assert "6222021234567890128" not in record_text[0]
        assert "[redacted]" in record_text[0]
