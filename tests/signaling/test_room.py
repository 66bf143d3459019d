"""The Room model on its own: layouts, caucuses, scopes and who may be where."""

from __future__ import annotations

import pytest

from signaling.errors import Conflict, Forbidden, NotFound
from signaling.grants import grants_for_role
from signaling.rooms.room import Member, Room


def seated(room: Room, pid: str, role: str = "party", admitted: bool = True) -> Member:
    m = room.seat(Member(participant_id=pid, name=pid, role=role, side=None,
                         grants=grants_for_role(role)))
    if admitted:
        room.admit(pid)
    return m


def test_every_change_that_moves_people_bumps_the_layout_version() -> None:
    room = Room("s")
    seated(room, "med", "mediator")
    v = room.layout_version
    c = room.create_caucus("A")
    room.move("med", c.id)
    room.end_caucus(c.id)
    assert room.layout_version == v + 3


def test_a_caucus_audience_is_its_members_only() -> None:
    room = Room("s")
    for pid, role in (("med", "mediator"), ("a", "party"), ("b", "party")):
        seated(room, pid, role)
    c = room.create_caucus("A")
    room.move("a", c.id)
    room.move("med", c.id)
    assert sorted(room.audience(c.id)) == ["a", "med"]
    assert room.audience(None) == ["b"]


def test_ending_a_caucus_returns_its_members_to_the_joint_session() -> None:
    room = Room("s")
    seated(room, "a")
    c = room.create_caucus("A")
    room.move("a", c.id)
    assert room.end_caucus(c.id) == ["a"]
    assert room.member("a").caucus_id is None and not room.caucuses


def test_a_scoped_participant_cannot_leave_its_caucus() -> None:
    room = Room("s")
    c = room.create_caucus("consultation")
    expert = grants_for_role("expert").with_changes(caucus_scope=c.id)
    room.seat(Member(participant_id="e", name="e", role="expert", side=None, grants=expert))
    room.admit("e")
    assert room.member("e").caucus_id == c.id
    with pytest.raises(Forbidden):
        room.move("e", None)


def test_people_in_the_lobby_cannot_be_moved_and_unknown_caucuses_are_refused() -> None:
    room = Room("s")
    seated(room, "a", admitted=False)
    c = room.create_caucus("A")
    with pytest.raises(Conflict):
        room.move("a", c.id)
    room.admit("a")
    with pytest.raises(NotFound):
        room.move("a", "0" * 16)
    with pytest.raises(NotFound):
        room.member("nobody")


def test_a_caucus_name_is_read_only_by_its_members_and_the_mediator() -> None:
    """The mediator names a caucus in their own words: the other side sees that a caucus
    exists and who is in it, never its name."""
    room = Room("s")
    for pid, role in (("med", "mediator"), ("a", "party"), ("b", "party"), ("c", "party")):
        seated(room, pid, role)
    c = room.create_caucus("与张三谈赔偿底线")
    room.move("a", c.id)
    other = room.create_caucus("丙方")
    room.move("c", other.id)

    def names(pid: str) -> dict[str, str]:
        return {k["id"]: k["name"] for k in room.layout_for(pid)["caucuses"]}

    assert names("med") == {c.id: "与张三谈赔偿底线", other.id: "丙方"}
    assert names("a") == {c.id: "与张三谈赔偿底线", other.id: ""}
    assert names("b") == {c.id: "", other.id: ""}
    assert names("c") == {c.id: "", other.id: "丙方"}
    assert [k["members"] for k in room.layout_for("b")["caucuses"]] == [["a"], ["c"]]


def test_hidden_observers_are_listed_to_the_mediator_only() -> None:
    room = Room("s")
    seated(room, "med", "mediator")
    seated(room, "obs", "observer")
    assert "obs" in room.layout(for_admin=True)["joint"]
    assert "obs" not in room.layout(for_admin=False)["joint"]


def test_a_room_survives_a_round_trip_through_json() -> None:
    room = Room("s")
    seated(room, "a")
    room.mute("a", "audio", True)
    c = room.create_caucus("A")
    room.move("a", c.id)
    again = Room.from_dict(room.to_dict())
    assert again.to_dict() == room.to_dict()
    assert again.member("a").muted_sources == {"audio"}


def test_a_scoped_participant_sees_only_its_caucus_in_the_layout() -> None:
    room = Room("s")
    seated(room, "med", "mediator")
    seated(room, "a")
    c = room.create_caucus("consultation")
    other = room.create_caucus("B side")
    room.move("med", c.id)
    expert = grants_for_role("expert").with_changes(caucus_scope=c.id)
    room.seat(Member(participant_id="e", name="e", role="expert", side=None, grants=expert))
    room.admit("e")
    lay = room.layout_for("e")
    assert lay["joint"] == [] and [x["id"] for x in lay["caucuses"]] == [c.id]
    assert {p["participant_id"] for p in lay["participants"]} == {"med", "e"}
    assert other.id in [x["id"] for x in room.layout_for("med")["caucuses"]]
