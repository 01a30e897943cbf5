"""Where in a video a passage is: time labels ("12:34") and links that open the video at that second.

A YouTube address gets `t=754s` (`&t=` after a query, `?t=` otherwise, the
form YouTube's own share button writes); any other address, a media file
or a page, gets a media fragment `#t=754` (W3C Media Fragments). Pure
functions; nothing here reads files.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

YOUTUBE_HOSTS = re.compile(r"(^|\.)(youtube\.com|youtu\.be|youtube-nocookie\.com)$", re.IGNORECASE)


def time_label(seconds: float | None) -> str:
    """12:34, or 1:02:03 from an hour up; "" for untimed text."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def deep_link(url: str, seconds: float | None) -> str:
    """The address opened at that second; "" without an http(s) address or a time."""
    if not url or seconds is None:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    second = int(seconds)
    base = url.split("#", 1)[0]
    if YOUTUBE_HOSTS.search(parts.hostname or ""):
        base = re.sub(r"([?&])t=[^&]*&?", r"\1", base).rstrip("?&")
        return f"{base}{'&' if '?' in base else '?'}t={second}s"
    return f"{base}#t={second}"
