"""Shared fixtures: real ingest servers on loopback (see tests/ingest.py)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest import RtmpIngest, TlsTerminator


@pytest.fixture
def rtmp_ingest(tmp_path: Path) -> Iterator[RtmpIngest]:
    """A listening RTMP ingest recording to ``tmp_path/recording.flv``; killed at teardown."""
    ingest = RtmpIngest(tmp_path / "recording.flv")
    try:
        ingest.wait_listening()
        yield ingest
    finally:
        ingest.close()


@pytest.fixture(scope="session")
def test_ca():  # -> trustme.CA
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def test_ca_file(test_ca, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_terminator(test_ca, rtmp_ingest: RtmpIngest) -> Iterator[TlsTerminator]:
    """TLS on loopback (certificate for 127.0.0.1 and localhost, signed by ``test_ca``) in front of
    ``rtmp_ingest``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    terminator = TlsTerminator(context, rtmp_ingest.port)
    try:
        yield terminator
    finally:
        terminator.close()
