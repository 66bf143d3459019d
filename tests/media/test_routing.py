"""The routing table as a pure function: each rule, and who is refused."""

from __future__ import annotations

from media.routing import ParticipantView, RoomView, Route, routes


def p(pid: str, **kw: object) -> ParticipantView:
    return ParticipantView(participant_id=pid, name=pid, role=str(kw.pop("role", "party")), **kw)  # type: ignore[arg-type]


def pairs(view: RoomView, source: str = "audio") -> set[tuple[str, str]]:
    return {(r.publisher_id, r.subscriber_id) for r in routes(view) if r.source == source}


def test_an_empty_room_routes_nothing() -> None:
    assert routes(RoomView("s")) == frozenset()


def test_in_the_joint_session_everyone_receives_everyone_else() -> None:
    view = RoomView("s", (p("m", role="mediator"), p("a"), p("b")))
    expected = {(x, y) for x in "mab" for y in "mab" if x != y}
    for source in ("audio", "video", "screen"):
        assert pairs(view, source) == expected


def test_nobody_receives_their_own_tracks() -> None:
    view = RoomView("s", (p("a"),))
    assert routes(view) == frozenset()


def test_a_caucus_hears_only_its_members_and_the_other_side_is_refused() -> None:
    view = RoomView("s", (p("m", role="mediator", caucus_id="c1"), p("a", caucus_id="c1"), p("b")))
    assert pairs(view) == {("m", "a"), ("a", "m")}
    assert ("a", "b") not in pairs(view)
    assert ("m", "b") not in pairs(view)
    assert ("b", "a") not in pairs(view)


def test_two_caucuses_are_sealed_from_each_other() -> None:
    view = RoomView(
        "s",
        (
            p("a1", caucus_id="c1"),
            p("a2", caucus_id="c1"),
            p("b1", caucus_id="c2"),
            p("b2", caucus_id="c2"),
        ),
    )
    assert pairs(view) == {("a1", "a2"), ("a2", "a1"), ("b1", "b2"), ("b2", "b1")}


def test_the_mediator_moving_out_of_a_caucus_leaves_it() -> None:
    view = RoomView("s", (p("m", role="mediator"), p("a", caucus_id="c1"), p("b")))
    assert pairs(view) == {("m", "b"), ("b", "m")}


def test_a_mediator_muted_source_reaches_nobody_but_other_sources_do() -> None:
    view = RoomView("s", (p("a", muted_sources=frozenset({"audio"})), p("b")))
    assert ("a", "b") not in pairs(view, "audio")
    assert ("a", "b") in pairs(view, "video")
    assert ("b", "a") in pairs(view, "audio")


def test_a_hidden_observer_receives_but_is_never_routed_to_others() -> None:
    view = RoomView("s", (p("o", role="observer", hidden=True), p("a"), p("b")))
    assert ("a", "o") in pairs(view) and ("b", "o") in pairs(view)
    assert not any(pub == "o" for pub, _ in pairs(view, "video") | pairs(view))


def test_without_publish_grant_nothing_is_forwarded_from_a_participant() -> None:
    view = RoomView("s", (p("a", can_publish=False), p("b")))
    assert pairs(view) == {("b", "a")}


def test_without_subscribe_grant_a_participant_receives_nothing() -> None:
    view = RoomView("s", (p("a", can_subscribe=False), p("b")))
    assert pairs(view) == {("a", "b")}


def test_an_absent_participant_neither_sends_nor_receives() -> None:
    view = RoomView("s", (p("a", present=False), p("b"), p("c")))
    assert pairs(view) == {("b", "c"), ("c", "b")}


def test_routes_are_a_pure_function_of_the_view() -> None:
    view = RoomView("s", (p("a"), p("b", caucus_id="c")))
    assert routes(view) == routes(view)
    assert Route("a", "audio", "b") not in routes(view)
