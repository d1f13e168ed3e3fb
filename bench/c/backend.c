/*
 * backend: a legacy-mode backend in C, on the wire like the tutorial's server.py, for benchmarks.
 *
 * On start it sends the proxy the registration server.py sends, on a connection of its own,
 *   {"type": "1", "id": "<id>", "privPolyId": "<policy>", "listenport": "<port>"}
 * (no "connections" field, so the proxy learns how many connections it serves), and only then
 * listens, as server.py does. It answers every type "0" request on every connection with
 *   {"type": "2", "srcid": "<id>", "destid": <request srcid>, "payloadsize": 40, "payload":
 * "<sha1>"} in request order. Unlike server.py it serves any number of connections at once on one
 * epoll thread and frames back-to-back JSON objects, so pipelined requests and several requests in
 * one read are answered one by one; anything that is not a request gets a type "3" error.
 *
 * --no-register skips the registration (behind HAProxy, which just connects to it). Run
 * `backend --help` for the options. Exit status: 1 if it cannot listen or register, 2 for bad
 * options, 128 + the signal when stopped by SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define READ_CHUNK 16384
#define PAUSE_READING_AT (1 << 20) /* unwritten reply bytes at which a connection is not read */
#define REGISTRATION_ATTEMPTS 8

static const char *server_id;
static const char *policy;
static int listen_port = -1;
static const char *listen_host = "127.0.0.1";
static const char *proxy_host = "127.0.0.1";
static int proxy_port = 2100;
static int do_register = 1;

static volatile sig_atomic_t stop_signal;
static long long connections_accepted, answers, error_answers;

struct conn {
  int fd;
  uint8_t *rbuf;
  size_t rcap, rlen;
  struct wire_scanner scanner;
  uint8_t *wbuf;
  size_t wcap, wlen, woff;
  int reading; /* EPOLLIN wanted */
  int writing; /* EPOLLOUT wanted */
  int closing; /* close once the output is written */
};

static int epfd;
static uint8_t scratch[WIRE_MAX_OBJECT];

static void usage(FILE *out) {
  fprintf(
      out,
      "Usage: backend -id ID -pp POLICY -listen PORT [-revproc PROXY_PORT] [options]\n"
      "       backend --id ID --policy POLICY --listen PORT [--proxy-port PORT] [options]\n"
      "\n"
      "A legacy-mode backend like server.py: registers with the proxy (type \"1\", no\n"
      "\"connections\" field), then listens and answers every type \"0\" request with the\n"
      "SHA-1 of its payload, on any number of connections at once.\n"
      "\n"
      "  --id ID, -id              server id, the srcid of its replies\n"
      "  --policy POLICY, -pp      the policy it registers for\n"
      "  --listen PORT, -listen    port to listen on; 0 = any free port (that one is registered)\n"
      "  --listen-host HOST        address to listen on (default 127.0.0.1)\n"
      "  --proxy-port PORT, -revproc  the proxy to register with (default 2100)\n"
      "  --proxy-host HOST         the proxy's address (default 127.0.0.1)\n"
      "  --no-register             do not register (behind HAProxy); --policy not needed\n"
      "  -h, --help                this help\n");
}

static void bad(const char *what, const char *arg) {
  fprintf(stderr, "backend: %s, got '%s' (see --help)\n", what, arg);
  exit(2);
}

static int plain_name(const char *s) { /* 1-64 characters of A-Z a-z 0-9 . _ - */
  size_t n = strlen(s);
  if (n == 0 || n > 64) {
    return 0;
  }
  for (; *s; s++) {
    if (!(*s == '.' || *s == '_' || *s == '-' || (*s >= '0' && *s <= '9') ||
          (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
      return 0;
    }
  }
  return 1;
}

static int parse_port(const char *s, int zero_ok) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < (zero_ok ? 0 : 1) || v > 65535) {
    bad(zero_ok ? "a port is 0-65535" : "a port is 1-65535", s);
  }
  return (int)v;
}

static void parse_options(int argc, char **argv) {
  enum { O_ID = 256, O_POLICY, O_LISTEN, O_LISTEN_HOST, O_PROXY_PORT, O_PROXY_HOST, O_NO_REGISTER };
  static const struct option longs[] = {{"id", required_argument, 0, O_ID},
                                        {"policy", required_argument, 0, O_POLICY},
                                        {"pp", required_argument, 0, O_POLICY},
                                        {"listen", required_argument, 0, O_LISTEN},
                                        {"listen-host", required_argument, 0, O_LISTEN_HOST},
                                        {"proxy-port", required_argument, 0, O_PROXY_PORT},
                                        {"revproc", required_argument, 0, O_PROXY_PORT},
                                        {"proxy-host", required_argument, 0, O_PROXY_HOST},
                                        {"no-register", no_argument, 0, O_NO_REGISTER},
                                        {"help", no_argument, 0, 'h'},
                                        {0, 0, 0, 0}};
  int opt;
  /* getopt_long_only: server.py's single-dash options (-id, -pp, -listen, -revproc) work too. */
  while ((opt = getopt_long_only(argc, argv, "h", longs, NULL)) != -1) {
    switch (opt) {
      case O_ID: server_id = optarg; break;
      case O_POLICY: policy = optarg; break;
      case O_LISTEN: listen_port = parse_port(optarg, 1); break;
      case O_LISTEN_HOST: listen_host = optarg; break;
      case O_PROXY_PORT: proxy_port = parse_port(optarg, 0); break;
      case O_PROXY_HOST: proxy_host = optarg; break;
      case O_NO_REGISTER: do_register = 0; break;
      case 'h': usage(stdout); exit(0);
      default: usage(stderr); exit(2);
    }
  }
  if (optind < argc) {
    bad("unexpected argument", argv[optind]);
  }
  if (server_id == NULL || listen_port < 0 || (do_register && policy == NULL)) {
    usage(stderr);
    fprintf(stderr, "backend: --id and --listen are required, and --policy unless --no-register\n");
    exit(2);
  }
  if (!plain_name(server_id)) {
    bad("an id is 1-64 characters of A-Z a-z 0-9 . _ -", server_id);
  }
  if (policy != NULL && !plain_name(policy)) {
    bad("a policy is 1-64 characters of A-Z a-z 0-9 . _ -", policy);
  }
}

static int resolve(const char *host, int port, struct sockaddr_storage *addr, socklen_t *len) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  char service[8];
  snprintf(service, sizeof(service), "%d", port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "backend: cannot resolve %s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/*
 * Sends the registration as server.py does, then listens on listener (bound already, so port 0
 * works); the proxy connects once it has read the registration, as it does to server.py. Where
 * server.py closes at once, this half-closes and waits up to 1 s for a refusal (the proxy closes as
 * soon as it has decided): a refusal is printed and ends the program, a conflict (the id still
 * held) and an unreachable proxy are retried. Returns 0 once registered.
 */
static int register_and_listen(int listener, int bound_port) {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  if (resolve(proxy_host, proxy_port, &addr, &addr_len) != 0) {
    return -1;
  }
  char message[256];
  int message_len =
      snprintf(message, sizeof(message),
               "{\"type\": \"1\", \"id\": \"%s\", \"privPolyId\": \"%s\", \"listenport\": \"%d\"}",
               server_id, policy, bound_port);
  int listening = 0;
  long backoff_ms = 200;
  for (int attempt = 1; attempt <= REGISTRATION_ATTEMPTS; attempt++) {
    if (attempt > 1) {
      sleep_ms(backoff_ms + rand() % (backoff_ms / 2 + 1));
      backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len) != 0) {
      fprintf(stderr, "backend %s: the proxy at %s:%d is not reachable (%s), attempt %d of %d\n",
              server_id, proxy_host, proxy_port, strerror(errno), attempt, REGISTRATION_ATTEMPTS);
      if (fd >= 0)
        close(fd);
      continue;
    }
    ssize_t sent = write(fd, message, (size_t)message_len);
    shutdown(fd, SHUT_WR);
    if (!listening) {
      if (listen(listener, 1024) != 0) {
        fprintf(stderr, "backend %s: cannot listen: %s\n", server_id, strerror(errno));
        close(fd);
        return -1;
      }
      listening = 1;
    }
    if (sent != message_len) {
      fprintf(stderr, "backend %s: could not send the registration: %s\n", server_id,
              strerror(errno));
      close(fd);
      continue;
    }
    char reply[2048];
    size_t got = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (got < sizeof(reply) - 1 && poll(&pfd, 1, 1000) > 0) {
      ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);
      if (n <= 0) {
        break;
      }
      got += (size_t)n;
    }
    close(fd);
    reply[got] = 0;
    if (got == 0) {
      return 0; /* silence: accepted */
    }
    struct wire_fields f;
    char code[64] = "?";
    if (wire_parse_fields((const uint8_t *)reply, got, &f) == 0 &&
        wire_type(&f.v[WF_TYPE]) == '3' && f.v[WF_CODE].kind == WIRE_STRING) {
      long n =
          wire_json_decode(f.v[WF_CODE].start, f.v[WF_CODE].len, (uint8_t *)code, sizeof(code) - 1);
      code[n > 0 ? n : 0] = 0;
    }
    if (strcmp(code, "registration_conflict") == 0) {
      fprintf(stderr, "backend %s: registration conflict, attempt %d of %d: %s\n", server_id,
              attempt, REGISTRATION_ATTEMPTS, reply);
      continue;
    }
    fprintf(stderr, "backend %s: the proxy refused the registration: %s\n", server_id, reply);
    return -1;
  }
  fprintf(stderr, "backend %s: could not register with the proxy at %s:%d after %d attempts\n",
          server_id, proxy_host, proxy_port, REGISTRATION_ATTEMPTS);
  return -1;
}

/* --- Serving ------------------------------------------------------------------------------------
 */

static void set_events(struct conn *c, int reading, int writing) {
  if (reading == c->reading && writing == c->writing) {
    return;
  }
  c->reading = reading;
  c->writing = writing;
  struct epoll_event ev = {.events = (reading ? EPOLLIN : 0) | (writing ? EPOLLOUT : 0),
                           .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_conn(struct conn *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->rbuf);
  free(c->wbuf);
  free(c);
}

/* Writes what it can; returns -1 if the connection was closed. */
static int flush(struct conn *c) {
  if (c->woff < c->wlen) {
    ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      close_conn(c);
      return -1;
    }
    if (n > 0) {
      c->woff += (size_t)n;
    }
  }
  if (c->woff == c->wlen) {
    c->woff = c->wlen = 0;
    if (c->closing) {
      close_conn(c);
      return -1;
    }
  } else if (c->woff > 0) {
    memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
    c->wlen -= c->woff;
    c->woff = 0;
  }
  set_events(c, !c->closing && c->wlen<PAUSE_READING_AT, c->wlen> 0);
  return 0;
}

static void reserve(struct conn *c, size_t more) {
  if (c->wcap - c->wlen < more) {
    while (c->wcap - c->wlen < more) {
      c->wcap *= 2;
    }
    c->wbuf = realloc(c->wbuf, c->wcap);
  }
}

static void on_readable(struct conn *c) {
  if (c->rcap - c->rlen < READ_CHUNK / 2 && c->rcap < WIRE_MAX_OBJECT + 1) {
    c->rcap = c->rcap * 2 > WIRE_MAX_OBJECT + 1 ? WIRE_MAX_OBJECT + 1 : c->rcap * 2;
    c->rbuf = realloc(c->rbuf, c->rcap);
  }
  ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    /* The peer is done (or gone): answer nothing more, write what is owed, then close. */
    c->closing = 1;
    flush(c);
    return;
  }
  if (n < 0) {
    return;
  }
  size_t len = c->rlen + (size_t)n;
  size_t pos = c->rlen;
  enum wire_event e;
  while ((e = wire_scan(&c->scanner, c->rbuf, len, &pos)) != WIRE_NEED_INPUT) {
    reserve(c, WIRE_MAX_ANSWER);
    if (e == WIRE_OBJECT) {
      size_t objlen = c->scanner.object_len;
      size_t k = wire_answer(c->rbuf + pos - objlen, objlen, server_id, c->wbuf + c->wlen, scratch);
      if (c->wbuf[c->wlen + 10] == '3') { /* {"type": "3" */
        error_answers++;
      }
      c->wlen += k;
      answers++;
    } else if (e == WIRE_GARBAGE) {
      c->wlen += wire_answer_garbage(c->wbuf + c->wlen);
      error_answers++;
    } else {
      c->wlen += wire_answer_too_large(c->wbuf + c->wlen);
      error_answers++;
      c->closing = 1;
      flush(c);
      return;
    }
  }
  if (wire_end_of_chunk(&c->scanner)) {
    reserve(c, WIRE_MAX_ANSWER);
    c->wlen += wire_answer_garbage(c->wbuf + c->wlen);
    error_answers++;
  }
  size_t keep = wire_in_object(&c->scanner) ? c->scanner.object_len : 0;
  if (keep > 0 && len > keep) {
    memmove(c->rbuf, c->rbuf + len - keep, keep);
  }
  c->rlen = keep;
  flush(c);
}

static void accept_all(int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        fprintf(stderr, "backend %s: accept: %s\n", server_id, strerror(errno));
        if (errno == EMFILE || errno == ENFILE) {
          sleep_ms(10); /* out of descriptors: let connections close rather than spin */
        }
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = calloc(1, sizeof(*c));
    c->fd = fd;
    c->rcap = READ_CHUNK;
    c->rbuf = malloc(c->rcap);
    c->wcap = READ_CHUNK;
    c->wbuf = malloc(c->wcap);
    wire_scanner_init(&c->scanner, WIRE_MAX_OBJECT);
    c->reading = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    connections_accepted++;
  }
}

static void on_signal(int sig) {
  stop_signal = sig;
}

int main(int argc, char **argv) {
  parse_options(argc, argv);
  if (wire_sha1_init() != 0) {
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  srand((unsigned)(getpid() ^ time(NULL)));

  struct sockaddr_storage addr;
  socklen_t addr_len;
  if (resolve(listen_host, listen_port, &addr, &addr_len) != 0) {
    return 1;
  }
  int listener = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, addr_len) != 0) {
    fprintf(stderr, "backend %s: cannot bind %s:%d: %s\n", server_id, listen_host, listen_port,
            strerror(errno));
    return 1;
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  getsockname(listener, (struct sockaddr *)&bound, &bound_len);
  int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
  if (do_register) {
    if (register_and_listen(listener, port) != 0) {
      return 1;
    }
    fprintf(stderr,
            "backend %s (policy %s) listening on %s:%d, registered with the proxy at %s:%d\n",
            server_id, policy, listen_host, port, proxy_host, proxy_port);
  } else {
    if (listen(listener, 1024) != 0) {
      fprintf(stderr, "backend %s: cannot listen: %s\n", server_id, strerror(errno));
      return 1;
    }
    fprintf(stderr, "backend %s listening on %s:%d (not registered)\n", server_id, listen_host,
            port);
  }

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &lev);
  struct epoll_event events[256];
  while (!stop_signal) {
    int n = epoll_wait(epfd, events, 256, 1000);
    if (n < 0 && errno != EINTR) {
      perror("backend: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        accept_all(listener);
      } else if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        on_readable(c); /* may close c: nothing else of this event then */
      } else if (events[i].events & EPOLLOUT) {
        flush(c);
      }
    }
  }
  fprintf(stderr,
          "backend %s: stopped by signal %d after %lld connections, %lld answers (%lld errors)\n",
          server_id, (int)stop_signal, connections_accepted, answers, error_answers);
  return 128 + stop_signal;
}
