"""The stored state of events: the library's JSON format, written and read in native code.

The ``eventsourcing`` library stores an event's fields as JSON, with each value JSON
cannot hold as ``{"_type_": <transcoding>, "_data_": <value>}`` (``uuid_hex``,
``datetime_iso``, ``decimal_str``). ``NativeJSONTranscoder`` writes and reads that format
with ``orjson``: the bytes it writes are the bytes the library's own transcoder writes (a
test compares them for every event class), and each reads what the other wrote, so
stored rows stay readable by any process with either.

Every ledger event keeps its UUIDs and times in top-level fields and only JSON values
(strings, numbers, lists, objects) inside nested ones, so only top-level values are
transcoded; a nested value JSON cannot hold is refused, never stored in another shape.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

_TRANSCODED_KEYS = frozenset({"_type_", "_data_"})
# Values written as they are (an unregistered type is written as JSON too, or refused).
_AS_JSON = frozenset({str, int, bool, type(None), list, dict})


class NativeJSONTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        if type(obj) is not dict:
            return orjson.dumps(self._transcoded(obj), default=self._refuse)
        types = self.types
        state: dict[str, Any] = {}
        for key, value in obj.items():  # ``_transcoded`` inline: one event has ~15 fields
            kind = type(value)
            transcoding = None if kind in _AS_JSON else types.get(kind)
            state[key] = (
                value
                if transcoding is None
                else {"_type_": transcoding.name, "_data_": transcoding.encode(value)}
            )
        return orjson.dumps(state, default=self._refuse, option=orjson.OPT_PASSTHROUGH_DATETIME)

    def decode(self, data: bytes) -> Any:
        state = orjson.loads(data)
        if type(state) is not dict:
            return state
        for key, value in state.items():
            if type(value) is dict and len(value) == 2 and value.keys() == _TRANSCODED_KEYS:
                state[key] = self._decode_obj(value)
        return state

    def _transcoded(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        transcoding = self.types.get(kind)
        if transcoding is None:
            return value  # JSON already (lists, objects, str and int enums) or refused
        return {"_type_": transcoding.name, "_data_": transcoding.encode(value)}

    @staticmethod
    def _refuse(value: Any) -> Any:
        raise TranscodingNotRegisteredError(
            f"Object of type {type(value)} is not serializable here: only top-level fields "
            "of an event may hold values JSON cannot (UUIDs, times)"
        )
