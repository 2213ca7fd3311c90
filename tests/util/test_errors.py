from beam_pipeline.util.errors import first_line


def test_first_line_is_the_first_non_blank_line_stripped():
    assert first_line(RuntimeError("\n  connection refused  \nTraceback:\n  ...")) == "connection refused"


def test_an_empty_message_gives_the_class_name():
    assert first_line(ConnectionError("  \n ")) == "ConnectionError"
