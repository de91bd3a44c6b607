"""``python -m streamer COMMAND``: the account and discovery commands an operator uses around a stream.

Human-readable tables by default, ``--json`` for machines. Exit 0 on success; on failure one line on stderr
(``error: what happened — what to do``) and exit 1 (platform / network) or 2 (bad input or usage).
Secrets never reach the output: the token and RTMP keys are not printed, errors are already redacted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from streamer.platform import (
    CredentialsError,
    CredentialStore,
    InputValidationError,
    RetakeClient,
    RetakeError,
    UnsafeBaseURLError,
    check_skill_version,
    resolve_api_url,
)
from streamer.platform.credentials import Credentials
from streamer.platform.discovery import SESSION_KINDS
from streamer.platform.validation import (
    validate_agent_name,
    validate_chat_text,
    validate_description,
    validate_image_url,
    validate_limit,
    validate_ticker,
    validate_tweet_url,
    validate_wallet,
)
from streamer.redact import redact_secret

EXIT_FAILURE = 1
EXIT_USAGE = 2
Handler = Callable[[argparse.Namespace], Any]


# -- output -------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """Typed results as JSON-able data: dataclass fields minus ``raw``/``extra``, secrets already excluded."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name not in ("raw", "extra") and f.repr}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.6g}"
    return " ".join(str(value).split())


def _table(rows: Sequence[Any], columns: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(getattr(r, attr)) for _, attr in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(columns)]
    lines = ["  ".join(h.ljust(w) for (h, _), w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _pairs(pairs: Iterable[tuple[str, Any]]) -> str:
    pairs = list(pairs)
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in pairs)


class Result:
    """What a command produced: the data for ``--json`` and the text for humans."""

    def __init__(self, data: Any, text: str) -> None:
        self.data, self.text = data, text


# -- plumbing -----------------------------------------------------------------------------------------------

def _store() -> CredentialStore:
    return CredentialStore()


def _client(args: argparse.Namespace, *, auth: bool) -> RetakeClient:
    token = _store().load_effective().access_token if auth else None
    return RetakeClient(args.api_url, token, timeout=args.timeout)


def _own_user_id(store: CredentialStore) -> str:
    creds = store.load_effective()
    if not creds.user_db_id:
        raise CredentialsError(f"no userDbId in {store.path}: register first, or pass the user id explicitly")
    return creds.user_db_id


def _resolve_streamer_id(client: RetakeClient, name: str) -> str:
    """``/users/streamer/:identifier`` accepts a username or an id; chat and sessions want the id."""
    return client.streamer(name).streamer_id


# -- commands -----------------------------------------------------------------------------------------------

def cmd_register(args: argparse.Namespace) -> Result:
    problems, values = [], {}
    for key, check in (("name", validate_agent_name), ("description", validate_description),
                       ("image_url", validate_image_url), ("wallet", validate_wallet),
                       ("ticker", validate_ticker)):
        try:
            values[key] = check(getattr(args, key))
        except InputValidationError as exc:
            problems.append(str(exc))
    if problems:
        raise InputValidationError("; ".join(problems))
    store = _store()
    store.ensure_writable()  # the token is handed out once: make sure it can be saved before asking for it
    existing = store.load()  # a corrupt file stops us here, before an account is created
    if existing is not None and existing.access_token:
        raise CredentialsError(
            f"already registered as {existing.agent_name or '?'} ({store.path}); move that file away first "
            "if you really want a new agent — its token cannot be recovered"
        )
    with _client(args, auth=False) as client:
        reg = client.register(values["name"], values["description"], values["image_url"], values["wallet"],
                              values["ticker"])
    creds = Credentials(access_token=reg.access_token, agent_name=values["name"], agent_id=reg.agent_id,
                        user_db_id=reg.user_db_id, wallet_address=reg.wallet_address or values["wallet"],
                        ticker=values["ticker"], token_address=reg.token_address or "",
                        token_ticker=reg.token_ticker or "")
    store.save(creds)
    data = {"agent_name": creds.agent_name, "agent_id": creds.agent_id, "userDbId": creds.user_db_id,
            "credentials_file": str(store.path), "access_token_prefix": redact_secret(creds.access_token)}
    text = (f"Registered {creds.agent_name} (userDbId {creds.user_db_id}).\n"
            f"Credentials saved to {store.path} (mode 0600).\n"
            "Next: `python -m streamer verify` — verification is required before your token is created.")
    return Result(data, text)


def cmd_verify(args: argparse.Namespace) -> Result:
    tweet_url = validate_tweet_url(args.tweet_url) if args.tweet_url is not None else None
    with _client(args, auth=True) as client:
        if args.status:
            status = client.verification_status()
            return Result({"verified": status.verified}, _pairs([("verified", status.verified)]))
        if tweet_url is None:
            prompt = client.prepare_verify()
            text = ("Ask your human operator to post this exact message in a tweet (the agent does not post):\n\n"
                    f"    {prompt.message}\n\n"
                    "Then verify with the tweet's link:\n"
                    "    python -m streamer verify --tweet-url https://x.com/<username>/status/<id>")
            return Result({"verification_message": prompt.message}, text)
        status = client.verify(tweet_url)
    if not status.verified:
        raise RetakeError("the platform did not verify the tweet — check it contains the exact message, then retry")
    return Result({"verified": True}, "Verified: the agent now carries the verified badge.")


def cmd_status(args: argparse.Namespace) -> Result:
    store = _store()
    with _client(args, auth=True) as client:
        verified = client.verification_status().verified
        stream = client.stream_status()
        try:
            skill = check_skill_version(client.http, store)
            skill_note = skill.warning
        except RetakeError as exc:
            skill, skill_note = None, f"could not check skill.json: {exc}"
    if skill_note:
        print(f"warning: {skill_note}", file=sys.stderr)
    data = {"verified": verified, **_plain(stream), "skill_version": skill.current if skill else None}
    return Result(data, _pairs([("verified", verified), ("live", stream.is_live), ("viewers", stream.viewers),
                                ("uptime", f"{stream.uptime_seconds}s"), ("token", stream.token_address),
                                ("userDbId", stream.user_db_id),
                                ("skill version", skill.current if skill else None)]))


def cmd_stop(args: argparse.Namespace) -> Result:
    with _client(args, auth=True) as client:
        stopped = client.stream_stop()
    return Result(_plain(stopped), _pairs([("status", stopped.status),
                                           ("duration", f"{stopped.duration_seconds}s"),
                                           ("viewers", stopped.viewers)]))


def cmd_chat_send(args: argparse.Namespace) -> Result:
    text = validate_chat_text(args.text)
    with _client(args, auth=True) as client:
        target = _resolve_streamer_id(client, args.to) if args.to else _own_user_id(_store())
        sent = client.chat_send(text, target)
    return Result({"sent": True, "destination_user_id": target, "message_id": sent.message_id},
                  f"Sent to {target}.")


def cmd_comments(args: argparse.Namespace) -> Result:
    limit = validate_limit(args.limit)
    with _client(args, auth=True) as client:
        user = args.user or _own_user_id(_store())
        comments = client.comments(user, limit=limit, before_id=args.before)
    return Result(_plain(comments), _table(comments, [("ID", "id"), ("TIME", "timestamp"),
                                                      ("FROM", "author_name"), ("TEXT", "text")]))


AGENT_COLUMNS = [("RANK", "rank"), ("USERNAME", "username"), ("TICKER", "ticker"),
                 ("MARKET CAP", "market_cap"), ("USER ID", "user_id")]


def cmd_live(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        agents = client.live_users()
    return Result(_plain(agents), _table(agents, AGENT_COLUMNS))


def cmd_search(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        agents = client.search_users(args.query)
    return Result(_plain(agents), _table(agents, AGENT_COLUMNS))


def cmd_streamer(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        info = client.streamer(args.name)
    return Result(_plain(info), _pairs((f.name, getattr(info, f.name)) for f in dataclasses.fields(info)
                                       if f.name != "raw"))


def cmd_tokens(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        tokens = client.top_tokens() if args.which == "top" else client.trending_tokens()
    columns = [("RANK", "rank"), ("NAME", "name"), ("TICKER", "ticker"), ("MARKET CAP", "market_cap")]
    columns += [("ADDRESS", "address")] if args.which == "top" else [("24H GROWTH", "growth_24h")]
    return Result(_plain(tokens), _table(tokens, columns))


def cmd_token(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        stats = client.token_stats(args.address)
    growth = ", ".join(f"{k} {_cell(v)}" for k, v in stats.growth.items()) or None
    return Result(_plain(stats), _pairs([("address", stats.address), ("price", stats.current_price),
                                         ("market cap", stats.market_cap), ("all-time high", stats.all_time_high),
                                         ("growth", growth), ("volume", stats.volume),
                                         ("earnings", stats.earnings)]))


def cmd_trades(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        trades = client.recent_trades(args.token, limit=args.limit)
    return Result(_plain(trades), _table(trades, [("TIME", "timestamp"), ("TICKER", "ticker"),
                                                  ("ACTION", "action"), ("USD", "usd_amount"),
                                                  ("TOKEN", "token_address")]))


def cmd_chat_history(args: argparse.Namespace) -> Result:
    limit = validate_limit(args.limit)
    with _client(args, auth=False) as client:
        chats = client.chat_history(_resolve_streamer_id(client, args.name), limit=limit)
    return Result(_plain(chats), _table(chats, [("TYPE", "kind"), ("FROM", "author_name"), ("TEXT", "text")]))


def cmd_sessions(args: argparse.Namespace) -> Result:
    with _client(args, auth=False) as client:
        streamer_id = _resolve_streamer_id(client, args.name) if args.name else None
        sessions = client.sessions(args.kind, streamer_id)
    return Result(_plain(sessions), _table(sessions, [("SESSION", "session_id"), ("STREAMER", "username"),
                                                      ("TITLE", "title"), ("STREAMER ID", "streamer_id")]))


# -- parser -------------------------------------------------------------------------------------------------

def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", help="API base URL (default: $RETAKE_API_URL or https://retake.tv/api/v1; "
                                          "only retake.tv over https, or loopback for rehearsal)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument("--timeout", type=_positive_float, default=10.0, help="seconds per request (default 10)")

    parser = argparse.ArgumentParser(prog="python -m streamer", description="retake.tv account and discovery")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("register", cmd_register, "create the agent account (once) and save its credentials")
    p.add_argument("--name", required=True, help="unique agent name (your stream URL)")
    p.add_argument("--description", required=True, help="short bio shown on the profile")
    p.add_argument("--image-url", required=True, help="public http(s) URL of a square jpg/png avatar")
    p.add_argument("--wallet", required=True, help="Solana public key (base58, 32 bytes)")
    p.add_argument("--ticker", required=True, help="token symbol, 1-10 letters/digits")

    p = add("verify", cmd_verify, "link a Twitter/X account: print the message to tweet, then verify it")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--tweet-url", help="the human's tweet (https://x.com/USER/status/ID)")
    group.add_argument("--status", action="store_true", help="only show whether the agent is verified")

    add("status", cmd_status, "verification, live state, viewers, and the skill.json version check")
    add("stop", cmd_stop, "end the stream session (returns final stats)")

    chat = sub.add_parser("chat", help="chat in a stream", description="chat in a stream")
    chat_sub = chat.add_subparsers(dest="chat_command", required=True, metavar="ACTION")
    p = add("send", cmd_chat_send, "send a chat message", chat_sub)
    p.add_argument("text", help="the message")
    p.add_argument("--to", metavar="USER", help="username or userDbId of the stream (default: your own)")

    p = add("comments", cmd_comments, "recent comments in your stream (or another's with --user)")
    p.add_argument("--limit", type=int, default=50, help="how many, 1-100 (default 50)")
    p.add_argument("--user", help="userDbId of the stream (default: your own)")
    p.add_argument("--before", help="comment id to page back from")

    add("live", cmd_live, "agents live right now")
    p = add("search", cmd_search, "find agents by name")
    p.add_argument("query")
    p = add("streamer", cmd_streamer, "one streamer by username or id")
    p.add_argument("name")
    p = add("tokens", cmd_tokens, "top tokens by market cap, or trending (24h growth)")
    p.add_argument("which", choices=("top", "trending"))
    p = add("token", cmd_token, "detailed stats of one token")
    p.add_argument("address")
    p = add("trades", cmd_trades, "recent trades, platform-wide or for one token")
    p.add_argument("--token", metavar="ADDRESS", help="only this token")
    p.add_argument("--limit", type=int, help="how many, 1-100")
    p = add("chat-history", cmd_chat_history, "a streamer's chat history")
    p.add_argument("name", help="username or id")
    p.add_argument("--limit", type=int, default=50, help="how many, 1-100 (default 50)")
    p = add("sessions", cmd_sessions, "active, recorded or scheduled sessions, optionally of one streamer")
    p.add_argument("kind", choices=SESSION_KINDS)
    p.add_argument("name", nargs="?", help="username or id")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, argparse printed why)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        resolve_api_url(args.api_url)  # refuse a foreign host before anything else happens
        result = args.handler(args)
    except (InputValidationError, UnsafeBaseURLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RetakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(result.data, indent=2, default=str) if args.json else result.text)
    return 0
