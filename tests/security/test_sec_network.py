"""Guarantee 6: no network from student code.

Every target is a listener this test starts on 127.0.0.1 (or a Unix socket it owns); nothing is
ever sent to another address and no real name is resolved. Each listener proves at start-up
that it sees a connection, so its silence after grading means the attack did not get through.
"""

from __future__ import annotations

import pytest
from sectest_support import Run

pytestmark = pytest.mark.sandbox


def assert_denied(outcome: str, run: Run) -> None:
    assert outcome.startswith("denied:"), (
        f"expected the sandbox to deny this, the attack saw: {outcome!r}\n{run.describe()}"
    )


def test_a_tcp_connection_to_localhost_never_arrives(attack, tcp_listener):
    run = attack(
        """
        import socket

        def attack(x):
            def connect():
                with socket.create_connection(("127.0.0.1", $port), timeout=1) as connection:
                    connection.sendall(b"hello from the sandbox")
                return "connected"

            return {"tcp": _attempt(connect)}
    """,
        values={"port": tcp_listener.port},
    )
    assert_denied(run.observation["tcp"], run)
    assert tcp_listener.connections == []


DNS_QUERY = (
    bytes.fromhex("abcd01000001000000000000") + b"\x07example\x07invalid\x00\x00\x01\x00\x01"
)


def test_a_udp_datagram_such_as_a_dns_query_never_arrives(attack, udp_listener):
    run = attack(
        """
        import socket

        def attack(x):
            def send(family, address):
                with socket.socket(family, socket.SOCK_DGRAM) as udp:
                    udp.sendto($query, address)
                return "sent"

            return {"udp": _attempt(lambda: send(socket.AF_INET, ("127.0.0.1", $port))),
                    "udp6 socket": _attempt(lambda: socket.socket(socket.AF_INET6,
                                                                  socket.SOCK_DGRAM))}
    """,
        values={"port": udp_listener.port, "query": DNS_QUERY},
    )
    assert run.observation["udp"].startswith("denied: PermissionError"), run.observation
    assert run.observation["udp6 socket"].startswith("denied: PermissionError"), run.observation
    assert udp_listener.datagrams == []


PIP = """
PACKAGE = "grader-sectest-not-a-package"
PIP_ARGS = ["install", "--isolated", "--disable-pip-version-check", "--no-cache-dir",
            "--retries", "0", "--timeout", "2", "--index-url",
            f"http://127.0.0.1:{$port}/simple", "--target", "installed", PACKAGE]
"""


def test_pip_install_in_a_subprocess_is_denied(attack, tcp_listener):
    run = attack(
        PIP,
        """
        import subprocess

        def attack(x):
            return {"pip": _attempt(lambda: subprocess.run([sys.executable, "-m", "pip",
                                                            *PIP_ARGS], timeout=2).returncode)}
    """,
        values={"port": tcp_listener.port},
    )
    assert run.observation["pip"].startswith("denied: PermissionError"), run.observation
    assert tcp_listener.connections == []


def test_pip_install_in_process_reaches_no_index(attack, tcp_listener):
    run = attack(
        PIP,
        """
        def long_attack(x):
            def install():
                import contextlib
                import io

                from pip._internal.cli.main import main as pip_main
                from pip._internal.network import session

                session.user_agent = lambda: "pip"  # it reads /etc files Landlock denies
                said = io.StringIO()
                with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                    code = pip_main(PIP_ARGS)
                return f"pip exited {code}: {said.getvalue()[-1500:]}"

            return {"pip": _attempt(install), "installed": os.path.exists("installed")}
    """,
        values={"port": tcp_listener.port},
    )
    assert not run.observation["pip"].startswith("ok: pip exited 0"), run.observation
    assert "Looking in indexes" in run.observation["pip"]  # pip got as far as the network
    assert run.observation["installed"] is False
    assert tcp_listener.connections == []


def test_an_abstract_unix_socket_outside_the_sandbox_is_unreachable(attack, abstract_unix_listener):
    run = attack(
        """
        import socket

        def attack(x):
            def connect():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                    connection.connect($address)
                    connection.sendall(b"hello from the sandbox")
                return "connected"

            return {"connect": _attempt(connect)}
    """,
        values={"address": abstract_unix_listener.address},
    )
    assert_denied(run.observation["connect"], run)
    assert abstract_unix_listener.connections == []


def test_a_unix_socket_of_the_grader_user_is_unreachable(
    attack, unix_socket_of_the_grader_user, mode, request
):
    """Like ssh-agent's socket: 0600, owned by the user the grader runs as. seccomp forbids
    every socket, and a different uid (the uid switch) keeps the child out too; Landlock ABI < 8
    does not cover connect(2) on pathname sockets, and the network namespace does not either."""
    listener = unix_socket_of_the_grader_user
    run = attack(
        """
        import socket

        def attack(x):
            def connect():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                    connection.connect($address)
                    connection.sendall(b"hello from the sandbox")
                return "connected"

            return {"connect": _attempt(connect)}
    """,
        values={"address": listener.address},
    )
    assert listener.connections == [], (
        f"the sandbox reached {listener.address}: {listener.connections}"
    )
    assert_denied(run.observation["connect"], run)
