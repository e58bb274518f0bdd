"""A grader running as root whose uid layer is unavailable: the child stays root.

That is this machine's situation without the interpreter_reachable fixture (Python lives under
/root, mode 700, so the sandbox user could not start it), and any root deployment with
GRADER_SANDBOX_DISABLE=uid. The lenient policy grades anyway, since namespaces and Landlock
still count as isolating. These tests reproduce it with GRADER_SANDBOX_DISABLE=uid in the default
mode (root only) and check what root keeps inside the sandbox.
"""

from __future__ import annotations

import os

import pytest
from sectest_support import modes

pytestmark = [
    pytest.mark.sandbox,
    modes("default"),
    pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader has root to lose"),
]

ROOT_CHILD = {"GRADER_SANDBOX_DISABLE": "uid"}


def run_as_root_child(attack, *sources, **keywords):
    run = attack(*sources, env=ROOT_CHILD, check_layers=False, **keywords)
    assert "uid" in run.layers["unavailable"], run.layers
    assert "landlock" in run.layers["isolating"], run.layers
    return run


def test_a_root_child_keeps_no_capabilities(attack):
    run = run_as_root_child(
        attack,
        """
        import ctypes

        class _Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class _Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        def attack(x):
            header, data = _Header(0x20080522, 0), (_Data * 2)()
            if ctypes.CDLL(None, use_errno=True).capget(ctypes.byref(header), data) != 0:
                return {"uid": os.getuid(), "effective": "capget failed"}
            effective = data[0].effective | data[1].effective << 32
            return {"uid": os.getuid(), "effective": hex(effective)}
    """,
    )
    assert run.observation["uid"] == 0
    assert run.observation["effective"] == "0x0", run.observation


def test_a_root_child_cannot_create_device_nodes(attack):
    run = run_as_root_child(
        attack,
        """
        import stat

        def attack(x):
            device = os.stat(".").st_dev
            node = _attempt(lambda: os.mknod("disk", stat.S_IFBLK | 0o400,
                                             os.makedev(os.major(device), os.minor(device))))
            return {"mknod": node,
                    "open": _attempt(lambda: open("disk", "rb").read(0)) if node.startswith("ok")
                    else "no node"}
    """,
    )
    assert run.observation["mknod"].startswith("denied:"), run.observation


def test_a_root_child_cannot_reach_a_root_only_unix_socket(attack, unix_socket_of_the_grader_user):
    listener = unix_socket_of_the_grader_user  # owned by root here, mode 0600, in a 0700 folder
    run = run_as_root_child(
        attack,
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
    assert listener.connections == [], f"the root child reached {listener.address}"
    assert run.observation["connect"].startswith("denied:"), run.observation
