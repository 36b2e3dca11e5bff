"""The benchmarks' HTTP client: aiohttp on uvloop, light enough to share two cores with the portal.

The load generator runs on the same machine as the portal and the bare app. httpx spends about
a millisecond of CPU on a request, so it could send only about 1,000 requests a second, which
made the bare app's rate the client's ceiling (the bare app sat at a fifth of a core) and kept
the deadline burst from offering three times the portal's sustainable rate. aiohttp costs about
a tenth of that: against the bare app it reaches the app's own limit (a whole core, 6,000 to
10,000 requests a second here), and at the portal's few hundred saves a second it takes a few
percent of a core.

No cookie jar: every request carries its own respondent's session cookie, so one client can
serve many respondents. Answers are read whole into a ``Reply``, which ``bench.driver.classify``
reads as it reads an httpx response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

# What a request can fail with, short of an answer: a refused or broken connection, no answer
# in time. The caller counts it as a time-out or error; the save's fate is unknown.
FAILURES = (aiohttp.ClientError, TimeoutError, OSError)


@dataclass(frozen=True)
class Reply:
    status_code: int  # named as httpx names it, so ``bench.driver.classify`` reads either
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """Kept-alive connections (at most ``most`` open at once) to whatever URLs it is given.

    Create it inside the event loop that uses it (aiohttp's rule), and ``close`` it there.
    """

    def __init__(self, *, timeout_s: float, keepalive_s: float, most: int) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=most, keepalive_timeout=keepalive_s),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        )

    async def post(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        async with self.session.post(url, data=dict(form), headers=dict(headers)) as response:
            return await _reply(response)

    async def get(self, url: str, headers: Mapping[str, str]) -> Reply:
        async with self.session.get(url, headers=dict(headers)) as response:
            return await _reply(response)

    async def close(self) -> None:
        await self.session.close()


async def _reply(response: aiohttp.ClientResponse) -> Reply:
    body = await response.read()
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Reply(response.status, headers, body)
