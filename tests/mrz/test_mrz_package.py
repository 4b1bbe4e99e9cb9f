"""The package's names load lazily (PEP 562): each one is the function or class its submodule defines."""

import importlib
import subprocess
import sys
import types

import mrtd.mrz


def test_every_exported_name_is_what_its_submodule_defines() -> None:
    for name in mrtd.mrz.__all__:
        value = getattr(mrtd.mrz, name)
        assert not isinstance(value, types.ModuleType), name
        home = importlib.import_module(f"mrtd.mrz.{mrtd.mrz._HOME[name]}")
        assert value is getattr(home, name)
    assert sorted(mrtd.mrz.__all__) == sorted(mrtd.mrz._HOME)


def test_a_check_digit_does_not_load_the_formats() -> None:
    code = "import sys, mrtd.mrz.checkdigit; print(sorted(m for m in sys.modules if m.startswith('mrtd.mrz.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "mrtd.mrz.checkdigit" in loaded
    assert "mrtd.mrz.formats" not in loaded and "mrtd.mrz.transliteration" not in loaded
