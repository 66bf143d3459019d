"""The joint transcript as the other packages read it, without importing transcription.

transcription provides the reader when its routes are added (``transcription/http.py``);
agreements drafts the 人民调解记录 from it. The reader answers the joint session's words
only, under the rule the transcript routes apply to a clerk: what was said in a caucus
never reaches a document through here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class SpokenLine:
    """One final utterance of the joint session, as corrected by the clerk."""

    participant_id: str
    speaker_name: str
    speaker_role: str
    voice: str | None
    start: float
    """Seconds on the session's clock."""
    end: float
    text: str
    language: str


JointTranscriptReader = Callable[[AsyncSession, str], Awaitable[list[SpokenLine]]]

_readers: list[JointTranscriptReader] = []


def provide_joint_transcript(reader: JointTranscriptReader) -> None:
    """Install the reader (idempotent: the last one provided is used)."""
    _readers[:] = [reader]


async def joint_transcript(db: AsyncSession, session_id: str) -> list[SpokenLine]:
    """The session's joint utterances in spoken order; none where no transcript is kept."""
    if not _readers:
        return []
    return await _readers[0](db, session_id)
