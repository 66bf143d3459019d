"""Every kind of event the server writes to a session's log has a label in both of the
client's languages (web_client/src/eventlabels.ts), so the clerk's event log never shows
a raw name like ``lobby.admitted`` in a Chinese page."""

from __future__ import annotations

import re

from tests.conftest import ROOT

PACKAGES = ("signaling", "agreements", "experts", "media", "transcription")
CALL = re.compile(
    r"(?:log_event|eventlog\.append|write_behind|_log)\(\s*(?:[\w.\[\]\"']+,\s*){0,2}\"([a-z_]+(?:\.[a-z_]+)?)\"")


def written_kinds() -> set[str]:
    kinds: set[str] = set()
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            kinds |= set(CALL.findall(path.read_text(encoding="utf-8")))
    return kinds


def labelled_kinds() -> dict[str, tuple[str, str]]:
    src = (ROOT / "web_client" / "src" / "eventlabels.ts").read_text(encoding="utf-8")
    return {k: (zh, en) for k, zh, en in
            re.findall(r'"([a-z_.]+)":\s*\["([^"]+)",\s*"([^"]+)"\]', src)}


def test_every_logged_event_kind_has_a_chinese_and_an_english_label() -> None:
    kinds = written_kinds()
    assert {"participant.joined", "lobby.admitted", "chat", "lobby.message"} <= kinds, kinds
    labels = labelled_kinds()
    missing = sorted(kinds - set(labels))
    assert not missing, f"add these to web_client/src/eventlabels.ts: {missing}"
    for kind, (zh, en) in labels.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), (kind, zh)
        assert zh != en and not re.search(r"[\u4e00-\u9fff]", en), (kind, en)
