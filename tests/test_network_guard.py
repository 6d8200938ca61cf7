"""The test-wide network guard really blocks non-loopback connections."""

import socket

import pytest

from tests.conftest import NetworkGuardError


def test_connecting_to_a_public_address_fails_the_test() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkGuardError):
            s.connect(("93.184.216.34", 443))
    finally:
        s.close()


def test_resolving_a_public_name_fails_the_test() -> None:
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo("api.openai.com", 443)


def test_loopback_is_allowed() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()
