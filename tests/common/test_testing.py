"""The test support's own promises: ports for a stack are distinct and free."""
import socket

from common.testing import free_ports


def test_a_stacks_ports_are_all_different_and_free():
    for _ in range(200):  # one at a time the kernel may hand out a port twice; held together it cannot
        ports = free_ports(4)
        assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
