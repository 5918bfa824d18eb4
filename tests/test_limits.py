"""Limits: parsing from manifests and the command line, and naming the limit an error points to."""

from __future__ import annotations

import pytest

from grader.errors import InputError
from grader.limits import Limits, format_size


def test_sizes_and_times_parse_from_text_and_numbers() -> None:
    limits = Limits().updated({"memory": "512MiB", "file_size": "1 GiB", "call_timeout": 2.5, "processes": 8})
    assert (limits.memory, limits.file_size, limits.call_timeout, limits.processes) == (2**29, 2**30, 2.5, 8)


@pytest.mark.parametrize("values", [{"memory": "lots"}, {"memory": -1}, {"speed": 3}, {"processes": True},
                                    {"memory": "1.2.3"}, {"cell_timeout": "."}, {"processes": "0.4"},
                                    {"memory": "99999999999T"}, {"call_timeout": float("inf")},
                                    {"cpu_time": float("nan")}, {"memory": "1MiB"}])
def test_bad_values_are_refused_with_one_line(values: dict[str, object]) -> None:
    with pytest.raises(InputError) as info:
        Limits().updated(values)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("ename", "evalue", "named"), [
    ("MemoryError", "Unable to allocate 16.0 GiB", "the memory limit is 512 MiB"),
    ("OSError", "[Errno 27] File too large", "the file size limit is 1 MiB"),
    ("OSError", "[Errno 24] Too many open files", "the open files limit is 20"),
    ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "the process limit is 8"),
])
def test_an_error_from_a_hit_limit_names_it(ename: str, evalue: str, named: str) -> None:
    limits = Limits(memory=2**29, file_size=2**20, open_files=20, processes=8)
    assert named in limits.explain(ename, evalue)


def test_other_errors_name_no_limit() -> None:
    assert Limits().explain("ValueError", "bad input") == ""
    assert Limits().explain("OSError", "[Errno 2] No such file or directory") == ""


def test_sizes_read_like_people_write_them() -> None:
    assert [format_size(n) for n in (2 * 2**30, 64 * 2**20, 1536, 100)] == ["2 GiB", "64 MiB", "1.5 KiB", "100 bytes"]
