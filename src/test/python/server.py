# Re-creation of the server script of the tutorial "Write a Reverse Proxy Server in Python"
# (part 2, server.py), for our compatibility test (src/test/java/revproxy/LegacyCompatIT.java).
# It behaves as the original does: it sends its type "1" registration to the reverse proxy on a
# fresh connection and closes it, and only THEN listens; it serves one connection at a time,
# each as a loop of one recv(2048) = one message, answered with a type "2" reply (json.dumps),
# until the connection closes. Two messages in one read break it, as they break the original.
#
#   python3 server.py -id 100 -pp 111 -listen 2105 -revproc 2100

# Import required modules
import socket
import hashlib
import json
import sys


####################################################################
########################## Option Set Up ###########################
####################################################################

def option_check():
    global args

    # all available argument options
    avail_options = ["-id", "-pp", "-listen", "-revproc"]

    # receive user given options
    options = [opt for opt in sys.argv[1:] if opt.startswith("-")]

    # receive user given arguments
    args = [arg for arg in sys.argv[1:] if not arg.startswith("-")]

    # raise error if user given option is wrong
    for i in options:
        if i not in avail_options:
            raise SystemExit(f"Usage: {sys.argv[0]} (-id & -pp & -listen & -revproc) <argument>...")

    # raise error if not all options or arguments are available
    if len(options) != 4 or len(args) != 4:
        raise SystemExit(f"Usage: {sys.argv[0]} (-id & -pp & -listen & -revproc) <argument>...")


####################################################################
###################### Basic Server Functions ######################
####################################################################

# Serve one connection (from the reverse proxy) until it closes
def on_new_client(clientsocket, addr):
    while True:
        msg = clientsocket.recv(2048)
        if not msg:
            break

        json_msg = json.loads(msg.decode())
        print("Received a message from client", json_msg["srcid"], "payload", json_msg["payload"])
        payload = json_msg["payload"]
        hashed_payload = hashlib.sha1(payload.encode()).hexdigest()
        new_json_msg = {"type": "2", "srcid": str(args[0]), "destid": json_msg["srcid"],
                        "payloadsize": len(hashed_payload), "payload": hashed_payload}

        print("Sending a message to the client", new_json_msg["destid"], "payload", new_json_msg["payload"])
        clientsocket.send(json.dumps(new_json_msg).encode())
    clientsocket.close()


# Register with the Reverse Proxy: one message on a fresh connection, then close
def connect_reverse_proxy():
    new_json_msg = {"type": "1", "id": str(args[0]), "privPolyId": str(args[1]),
                    "listenport": str(args[2])}
    rev_proxy_name = '127.0.0.1'
    rev_proxy_port = int(args[3])

    rev_proxy_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    rev_proxy_socket.connect((rev_proxy_name, rev_proxy_port))
    rev_proxy_socket.send(json.dumps(new_json_msg).encode())
    rev_proxy_socket.close()


####################################################################
########################## Main Function ###########################
####################################################################

if __name__ == "__main__":
    option_check()
    host = '127.0.0.1'
    port = int(args[2])

    print("Server running with id", args[0])
    print("Server serving privacy policy", args[1])
    print("Listening on port", args[2])

    # Announce "alive" to the Reverse Proxy first, before listening (as the original does)
    connect_reverse_proxy()
    print("Connecting to the reverse proxy on port", args[3])

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, port))
    s.listen(10)

    # One connection at a time: the next one is accepted when the current one has closed
    while True:
        c, addr = s.accept()
        print("Accepted a connection from", addr)
        on_new_client(c, addr)
