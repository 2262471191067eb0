"""A kernel client that keeps at most a budget of the kernel's output.

The kernel decides what it sends; the harness decides what it keeps. Messages
on the IOPub channel are measured before their content is decoded: outputs
(stream text, displays, results, widget messages) count against the run's
budget, and once it is spent they are dropped, with one notice in the cell
where that happened. Status and control messages always pass, so the
execution still ends normally; error messages pass with their traceback cut.
ZeroMQ itself refuses any single message over ``message_bytes``, so the harness
never holds one larger than that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.execute.sandbox.report import OutputStats

__all__ = ["OutputBudget", "capped_client_class"]

_OUTPUT_TYPES = {"stream", "display_data", "execute_result", "update_display_data"}
_TRACEBACK_LINES = 60
_LINE_CHARS = 4000


@dataclass
class OutputBudget:
    """What a run may keep of its kernel's output; counts what it dropped."""

    limit: int
    message_limit: int
    stats: OutputStats = field(default_factory=OutputStats)

    def admit(self, msg: dict[str, Any], unpack: Any) -> dict[str, Any]:
        """Decode ``msg`` (content still packed) if it fits; otherwise replace or drop it."""
        msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type", "")
        packed = msg.get("content", b"")
        size = len(packed) + sum(len(b) for b in msg.get("buffers") or [])
        counted = msg_type in _OUTPUT_TYPES or msg_type.startswith("comm")
        if not counted:
            msg["content"] = unpack(packed) if isinstance(packed, bytes | memoryview) else packed
            if msg_type == "error":
                _cut_traceback(msg["content"])
            return msg
        if self.stats.kept_bytes + size <= self.limit and size <= self.message_limit:
            self.stats.kept_bytes += size
            msg["content"] = unpack(packed) if isinstance(packed, bytes | memoryview) else packed
            return msg
        msg["buffers"] = []
        if not self.stats.truncated:
            self.stats.truncated = True
            head = ""
            room = self.limit - self.stats.kept_bytes
            if msg_type == "stream" and room > 0 and size <= self.message_limit:
                content = unpack(packed) if isinstance(packed, bytes | memoryview) else packed
                text = content.get("text") if isinstance(content, dict) else None
                if isinstance(text, str):
                    head = text[:room]
                    self.stats.kept_bytes += len(head)
            self.stats.dropped_bytes += size - len(head)
            self.stats.dropped_messages += 1
            return _retype(
                msg,
                "stream",
                {
                    "name": "stderr",
                    "text": f"{head}\n[grader: this run's output passed the "
                    f"{self.limit / 2**20:.0f} MB the grader keeps; the rest of its output "
                    "is dropped]\n",
                },
            )
        self.stats.dropped_bytes += size
        self.stats.dropped_messages += 1
        return _retype(msg, "execute_input", {})  # a message type nbclient records nothing for


def _retype(msg: dict[str, Any], msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    header = dict(msg.get("header") or {})
    header["msg_type"] = msg_type
    msg["header"] = header
    msg["msg_type"] = msg_type
    msg["content"] = content
    return msg


def _cut_traceback(content: Any) -> None:
    if not isinstance(content, dict):
        return
    tb = content.get("traceback")
    if isinstance(tb, list):
        content["traceback"] = [str(line)[:_LINE_CHARS] for line in tb[-_TRACEBACK_LINES:]]
    for key in ("ename", "evalue"):
        if isinstance(content.get(key), str):
            content[key] = content[key][:_LINE_CHARS]


def capped_client_class(budget: OutputBudget) -> type[Any]:
    """An ``AsyncKernelClient`` subclass whose IOPub channel applies ``budget``."""
    import zmq
    import zmq.asyncio
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.channels import AsyncZMQSocketChannel
    from traitlets import Type

    class CappedIOPubChannel(AsyncZMQSocketChannel):
        async def _recv(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
            assert self.socket is not None
            frames = await self.socket.recv_multipart(**kwargs)
            _, smsg = self.session.feed_identities(frames)
            msg = self.session.deserialize(smsg, content=False)
            return budget.admit(msg, self.session.unpack)

    class CappedKernelClient(AsyncKernelClient):
        iopub_channel_class = Type(CappedIOPubChannel)

        def _context_default(self) -> zmq.asyncio.Context:
            self._created_context = True
            context = zmq.asyncio.Context()
            context.setsockopt(zmq.MAXMSGSIZE, budget.message_limit)
            return context

    return CappedKernelClient
