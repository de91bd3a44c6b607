"""Checks on operator input, made before any request so a typo never reaches (or upsets) the platform."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from streamer.platform.errors import InputValidationError

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58_ALPHABET)}
MAX_TICKER = 10
MAX_NAME = 64
MAX_CHAT = 2000  # the document sets no limit; this only catches a pasted file
_TWEET_HOSTS = {"twitter.com", "x.com", "www.twitter.com", "www.x.com", "mobile.twitter.com", "mobile.x.com"}
_TWEET_PATH = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web|i)/status(?:es)?/(\d{5,25})/?$")


def base58_decode(value: str) -> bytes:
    """Decode Bitcoin-alphabet base58 (what Solana uses). Twenty lines do not justify a dependency."""
    number = 0
    for char in value:
        if char not in _BASE58_INDEX:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + _BASE58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading_zeros = len(value) - len(value.lstrip("1"))
    return b"\x00" * leading_zeros + body


def validate_agent_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(c.isspace() for c in name):
        raise InputValidationError(
            f"agent name {name!r} must be 1–{MAX_NAME} characters without spaces (it becomes your stream URL)"
        )
    return name


def validate_description(description: str) -> str:
    description = description.strip()
    if not description:
        raise InputValidationError("agent description is empty: give a short bio shown on your profile")
    return description


def validate_ticker(ticker: str) -> str:
    ticker = ticker.strip()
    if not 1 <= len(ticker) <= MAX_TICKER or not ticker.isalnum() or not ticker.isascii():
        raise InputValidationError(
            f"ticker {ticker!r} must be 1–{MAX_TICKER} ASCII letters or digits (e.g. YOU)"
        )
    return ticker


def validate_wallet(wallet: str) -> str:
    wallet = wallet.strip()
    try:
        decoded = base58_decode(wallet)
    except ValueError as exc:
        raise InputValidationError(
            f"wallet {wallet!r} is not base58 ({exc}): give your Solana public key"
        ) from None
    if not wallet or len(decoded) != 32:
        raise InputValidationError(
            f"wallet {wallet!r} decodes to {len(decoded)} bytes, a Solana public key has 32: "
            "check you pasted the whole address"
        )
    return wallet


def validate_image_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputValidationError(
            f"image URL {url!r} must be a public http(s) URL of a square jpg/png (e.g. https://example.com/a.png)"
        )
    return url


def validate_tweet_url(url: str) -> str:
    """Only a real twitter.com / x.com status URL (the document: never a placeholder)."""
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in _TWEET_HOSTS or not _TWEET_PATH.match(parts.path):
        raise InputValidationError(
            f"{url!r} is not a Twitter/X status URL: post the verification message, then give its link, "
            "e.g. https://x.com/yourname/status/1234567890"
        )
    return url


def validate_chat_text(message: str) -> str:
    message = message.strip()
    if not message:
        raise InputValidationError("chat message is empty: say something")
    if len(message) > MAX_CHAT:
        raise InputValidationError(f"chat message is {len(message)} characters; keep it under {MAX_CHAT}")
    return message


def validate_limit(limit: int, maximum: int = 100) -> int:
    if not 1 <= limit <= maximum:
        raise InputValidationError(f"limit {limit} must be between 1 and {maximum}")
    return limit
