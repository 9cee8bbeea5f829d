"""``TCPStore``: the key-value store torch uses for rendezvous (``env://``, ``tcp://``).

Rank 0 serves a dictionary over TCP; every rank sets and reads small keys (NCCL's unique id,
"rank r arrived" counters). It carries only rendezvous data -- the collectives themselves run on
MPI or NCCL. ``get`` and ``wait`` block until the key exists or the timeout passes.

Wire format, per request: op (1 byte), key length (4 bytes) and key, value length (8 bytes)
and value; the reply is a length (8 bytes) and bytes.
"""
from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from datetime import timedelta

_SET, _GET, _ADD, _CHECK, _DELETE, _NUM, _WAIT = range(1, 8)


def _recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("TCPStore: connection closed by the other side")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        store = self.server.data
        cond = self.server.cond
        sock = self.request
        while True:
            try:
                op = _recv_exact(sock, 1)[0]
            except (ConnectionError, OSError):
                return
            (klen,) = struct.unpack("!I", _recv_exact(sock, 4))
            key = _recv_exact(sock, klen).decode()
            (vlen,) = struct.unpack("!Q", _recv_exact(sock, 8))
            value = _recv_exact(sock, vlen)
            with cond:
                if op == _SET:
                    store[key] = value
                    cond.notify_all()
                    reply = b""
                elif op in (_GET, _WAIT):
                    (wait_s,) = struct.unpack("!d", value)
                    ok = cond.wait_for(lambda: key in store, timeout=wait_s)
                    reply = (b"\x01" + (store[key] if op == _GET else b"")) if ok else b"\x00"
                elif op == _ADD:
                    new = int(store.get(key, b"0")) + struct.unpack("!q", value)[0]
                    store[key] = str(new).encode()
                    cond.notify_all()
                    reply = struct.pack("!q", new)
                elif op == _CHECK:
                    reply = b"\x01" if key in store else b"\x00"
                elif op == _DELETE:
                    reply = b"\x01" if store.pop(key, None) is not None else b"\x00"
                else:
                    reply = struct.pack("!q", len(store))
            sock.sendall(struct.pack("!Q", len(reply)) + reply)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore:
    """torch.distributed.TCPStore(host_name, port, world_size=None, is_master=False,
    timeout=timedelta(seconds=300)): the master serves, every instance is a client."""

    def __init__(self, host_name, port, world_size=None, is_master=False,
                 timeout=timedelta(seconds=300), wait_for_workers=True, multi_tenant=False,
                 master_listen_fd=None, use_libuv=True):
        self.host, self.port = host_name, int(port)
        self.timeout = timeout.total_seconds() if hasattr(timeout, "total_seconds") \
            else float(timeout)
        self._server = None
        if is_master:
            self._server = _Server(("", self.port), _Handler)
            self._server.data, self._server.cond = {}, threading.Condition()
            self.port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._sock = self._connect()
        self._lock = threading.Lock()
        if world_size and wait_for_workers:
            self.add("__arrived", 1)
            self._wait_count("__arrived", world_size)

    def _connect(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # the server answers a blocking get within the timeout; the socket's own limit
                # only guards against a dead server, so it must not fire first
                sock.settimeout(self.timeout + 30)
                return sock
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"TCPStore: could not connect to {self.host}:{self.port} "
                                       f"within {self.timeout:g} s ({exc}); is rank 0 "
                                       "running and MASTER_ADDR/MASTER_PORT right?") from exc
                time.sleep(0.05)

    def _request(self, op, key, value=b""):
        key_b = key.encode()
        with self._lock:
            self._sock.sendall(struct.pack("!BI", op, len(key_b)) + key_b +
                               struct.pack("!Q", len(value)) + value)
            (n,) = struct.unpack("!Q", _recv_exact(self._sock, 8))
            return _recv_exact(self._sock, n)

    def set(self, key: str, value) -> None:
        self._request(_SET, key, value.encode() if isinstance(value, str) else bytes(value))

    def get(self, key: str) -> bytes:
        reply = self._request(_GET, key, struct.pack("!d", self.timeout))
        if reply[:1] != b"\x01":
            raise TimeoutError(f"TCPStore: key {key!r} was not set within {self.timeout:g} s "
                               "(a rank did not arrive)")
        return reply[1:]

    def add(self, key: str, amount: int) -> int:
        return struct.unpack("!q", self._request(_ADD, key, struct.pack("!q", amount)))[0]

    def check(self, keys) -> bool:
        return all(self._request(_CHECK, k) == b"\x01" for k in keys)

    def wait(self, keys, timeout=None) -> None:
        limit = self.timeout if timeout is None else (
            timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout))
        for k in keys:
            if self._request(_WAIT, k, struct.pack("!d", limit)) != b"\x01":
                raise TimeoutError(f"TCPStore: wait for key {k!r} timed out after {limit:g} s")

    def delete_key(self, key: str) -> bool:
        return self._request(_DELETE, key) == b"\x01"

    def num_keys(self) -> int:
        return struct.unpack("!q", self._request(_NUM, ""))[0]

    def _wait_count(self, key, target):
        deadline = time.monotonic() + self.timeout
        while self.add(key, 0) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"TCPStore: only {self.add(key, 0)} of {target} ranks "
                                   f"arrived within {self.timeout:g} s")
            time.sleep(0.01)

    def close(self):
        self._sock.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
