"""A tiny SMTP server for tests: enough of RFC 5321 for aiosmtplib to deliver a message
(no TLS, no auth). Messages land in `messages`; `fail_next` refuses that many DATA
commands with a 451, as a busy server would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class TinySmtpServer:
    messages: list[bytes] = field(default_factory=list)
    fail_next: int = 0
    port: int = 0
    _server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> TinySmtpServer:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        reply("220 tiny ESMTP")
        await writer.drain()
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    reply("250 tiny")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    reply("250 OK")
                elif command == "DATA":
                    reply("354 go on")
                    await writer.drain()
                    body = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        body += chunk
                    if self.fail_next:
                        self.fail_next -= 1
                        reply("451 try again later")
                    else:
                        self.messages.append(bytes(body))
                        reply("250 queued")
                elif command == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:
                    reply("502 not implemented")
                await writer.drain()
        finally:
            writer.close()
