"""One number formatter for the console and the reports (platform.formatting)."""
from platform.formatting import failure_line, lineage_lines, metric, number, settings


def test_numbers_keep_four_significant_digits_and_small_ones_stay_visible():
    assert [number(v) for v in (2e-4, 0.87341, 1088.49, 1e-7, 3, "adam")] == ["0.0002", "0.8734", "1088", "1e-07", "3", "adam"]
    assert settings({"lr_g": 2e-4, "semi_rate": 0.4, "epochs": 12}) == "lr_g=0.0002, semi_rate=0.4, epochs=12"


def test_failure_and_lineage_lines_print_settings_the_same_way():
    f = {"trial_id": "t", "error_type": "ValueError", "message": "m", "error_file": "e", "config": {"lr_d": 2e-4}}
    assert "(lr_d=0.0002)" in failure_line(f)
    entries = [{"trial": "b", "epoch": 3, "from": "a", "cloned": True, "config": {"lr_d": 2e-4}}]
    assert lineage_lines(entries) == ["epoch 3: trial b cloned trial a -> lr_d=0.0002"]


def test_a_progress_metric_keeps_three_decimals_but_never_prints_a_nonzero_value_as_zero():
    assert [metric(v) for v in (0.8734, 1088.4861, 0.0, 3)] == ["0.873", "1088.486", "0.000", "3"]
    assert metric(2e-4) == "2.00e-04" and metric(-4e-4) == "-4.00e-04"  # a KID or a learning rate, not 0.000
