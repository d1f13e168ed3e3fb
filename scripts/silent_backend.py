"""A legacy backend that registers with a proxy as server.py does, accepts, reads, and never
answers (for scripts/chaos.sh: a backend whose process is alive and whose socket is open, but
that has stopped serving).

  silent_backend.py --proxy HOST:PORT --id ID --policy POLICY --listen PORT --out FILE
                    [--max-seconds S]

It listens on 127.0.0.1:PORT (0: any free port), then sends the proxy its type "1" registration
({"type": "1", "id": ..., "privPolyId": ..., "listenport": ...}, with "token" from the
environment variable REVPROXY_REGISTRATION_TOKEN when set) on a connection of its own, and waits
up to 1 s for a refusal (a type "3" error: printed, exit status 1). Then it accepts every
connection the proxy opens and reads the requests sent on it; it writes one line per request to
FILE, `<epoch seconds> <connection number> <srcid>`, and nothing back. It stops on SIGTERM or
after --max-seconds (default 600), exit status 0.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time


def register(proxy_host, proxy_port, server_id, policy, listen_port):
    """None if the proxy accepted (silence), else its error text."""
    registration = {"type": "1", "id": server_id, "privPolyId": policy, "listenport": str(listen_port)}
    token = os.environ.get("REVPROXY_REGISTRATION_TOKEN")
    if token:
        registration["token"] = token
    with socket.create_connection((proxy_host, proxy_port), timeout=5) as conn:
        conn.sendall(json.dumps(registration).encode("utf-8"))
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(1.0)
        answer = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            pass
    return answer.decode("utf-8", "replace") if answer.strip() else None


def serve(conn, number, out, lock):
    decoder = json.JSONDecoder()
    buffer = ""
    with conn:
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk.decode("utf-8", "replace")
            while True:
                buffer = buffer.lstrip()
                try:
                    request, end = decoder.raw_decode(buffer)
                except ValueError:
                    break
                buffer = buffer[end:]
                srcid = request.get("srcid") if isinstance(request, dict) else None
                with lock:
                    out.write(f"{time.time():.3f} {number} {srcid}\n")
                    out.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proxy", required=True, help="HOST:PORT of the proxy to register with")
    parser.add_argument("--id", required=True)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    proxy_host, proxy_port = args.proxy.rsplit(":", 1)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.listen))
    server.listen(16)
    port = server.getsockname()[1]
    refusal = register(proxy_host, int(proxy_port), args.id, args.policy, port)
    if refusal is not None:
        print(f"silent_backend.py: the proxy refused the registration: {refusal}", file=sys.stderr)
        return 1
    print(f"Silent backend {args.id} (policy {args.policy}) listening on 127.0.0.1:{port},"
          f" registered with {args.proxy}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()
    server.settimeout(0.5)
    deadline = time.time() + args.max_seconds
    number = 0
    while time.time() < deadline:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        number += 1
        threading.Thread(target=serve, args=(conn, number, out, lock), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
