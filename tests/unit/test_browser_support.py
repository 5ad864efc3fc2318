"""Without a Chromium the browser tests skip with one line, except under CI=true, where that is a failure."""

from __future__ import annotations

import pytest

from tests import browser_support


def test_no_chromium_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_support.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^no Chromium on PATH \(apt-get install chromium\)$"):
        browser_support.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        browser_support.require_chromium()
    monkeypatch.setattr(browser_support.shutil, "which", lambda name: f"/usr/bin/{name}" if name == "chromium" else None)
    assert browser_support.require_chromium() == "/usr/bin/chromium"
