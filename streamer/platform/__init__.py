"""Everything that talks to retake.tv: REST client, errors, credentials, skill version check.

    from streamer.platform import RetakeClient, CredentialStore
    with RetakeClient.from_store(CredentialStore()) as client:
        keys = client.rtmp()          # RtmpCredentials; repr hides the key
        client.stream_start()

Never imports ``streamer.media`` or ``streamer.scene``.
"""

from streamer.platform.client import RetakeClient
from streamer.platform.credentials import (
    Credentials,
    CredentialStore,
    default_credentials_path,
    save_stream_start_token,
)
from streamer.platform.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CredentialsError,
    InputValidationError,
    NoActiveSessionError,
    NotFoundError,
    RedirectRefusedError,
    ResponseFormatError,
    RetakeError,
    RetakeTimeoutError,
    ServerError,
    TransportError,
    UnexpectedStatusError,
    UnsafeBaseURLError,
)
from streamer.platform.models import (
    ChatSendResult,
    Comment,
    Registration,
    RtmpCredentials,
    StreamStart,
    StreamStatus,
    StreamStopResult,
    ThumbnailResult,
    TokenInfo,
    VerificationPrompt,
    VerificationStatus,
)
from streamer.platform.public_models import (
    AgentSummary,
    JoinToken,
    SessionInfo,
    StreamerInfo,
    Tipper,
    TokenStats,
    TokenSummary,
    Trade,
    UserMetadata,
    UserProfile,
)
from streamer.platform.skill_check import SkillCheck, check_skill_version
from streamer.platform.transport import RetryPolicy
from streamer.platform.urls import DEFAULT_API_URL, resolve_api_url, validate_api_url

__all__ = [
    "APIError", "AgentSummary", "AuthenticationError", "BadRequestError", "ChatSendResult", "Comment",
    "CredentialStore", "Credentials", "CredentialsError", "DEFAULT_API_URL", "InputValidationError",
    "JoinToken", "NoActiveSessionError", "NotFoundError", "RedirectRefusedError", "Registration",
    "ResponseFormatError", "RetakeClient", "RetakeError", "RetakeTimeoutError", "RetryPolicy",
    "RtmpCredentials", "ServerError", "SessionInfo", "SkillCheck", "StreamStart", "StreamStatus",
    "StreamStopResult", "StreamerInfo", "ThumbnailResult", "Tipper", "TokenInfo", "TokenStats",
    "TokenSummary", "Trade", "TransportError", "UnexpectedStatusError", "UnsafeBaseURLError", "UserMetadata",
    "UserProfile", "VerificationPrompt", "VerificationStatus", "check_skill_version",
    "default_credentials_path", "resolve_api_url", "save_stream_start_token", "validate_api_url",
]
