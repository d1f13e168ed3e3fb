/*
 * loadgen: a closed-loop load generator for the proxy's protocol that verifies every reply, in C,
 * on one thread with epoll: the independent generator of issue 13, beside the Java `bench` role.
 *
 * Each of -c connections keeps up to -p type "0" requests in flight and sends the next one when a
 * reply comes. Request seq of connection conn is
 *   {"type": "0", "srcid": "<prefix><conn>-<seq>", "privPoliId": "<policy>", "payload":
 * "<payload>"} with a payload made for that request alone (a global counter, then pseudo-random
 * characters), whose SHA-1 is computed when it is sent. Replies come in request order on a
 * connection; each one must be a type "2" whose destid is the srcid sent and whose payload is that
 * SHA-1 hex, else it counts as wrong (a type "3" counts as an error, by code).
 *
 * Run `loadgen --help` for the options. Exit status: 0 if every request got its verified reply and
 * nothing else went wrong, 1 otherwise, 2 for bad options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define MAX_POLICIES 16
#define MAX_ERROR_CODES 16
#define RECONNECT_DELAY_NS 200000000LL
#define READ_CHUNK 16384

/* --- Settings -----------------------------------------------------------------------------------
 */

struct settings {
  const char *host;
  int port;
  int connections;
  int pipeline;
  double duration_s;
  double warmup_s;
  long long requests; /* > 0: send exactly this many, no warmup */
  double timeout_s;
  int payload_bytes;
  int unicode;
  const char *policies[MAX_POLICIES];
  int policy_count;
  const char *policies_arg;
  const char *srcid_prefix;
  uint64_t seed;
  int json;
};

static struct settings cfg = {
    .host = "127.0.0.1",
    .port = 2100,
    .connections = 64,
    .pipeline = 1,
    .duration_s = 10,
    .warmup_s = 3,
    .timeout_s = 10,
    .payload_bytes = 16,
    .policies_arg = "111",
    .srcid_prefix = "",
    .seed = 1,
};

/* --- Outcomes and latency -----------------------------------------------------------------------
 */

struct outcomes {
  long long requests; /* sent in this phase */
  long long ok, wrong, errors, timeouts, lost;
};

/* Log-linear histogram of microseconds: exact below 64, then 64 buckets per power of two (<1.6%).
 */
#define SUB_BITS 6
#define SUB_COUNT (1 << SUB_BITS)
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (SUB_COUNT + (HIST_MAX_EXP - SUB_BITS + 1) * SUB_COUNT)

struct histogram {
  long long counts[HIST_BUCKETS];
  long long total;
  uint64_t max;
  double sum;
};

static int bucket_of(uint64_t v) {
  if (v < SUB_COUNT) {
    return (int)v;
  }
  int e = 63 - __builtin_clzll(v);
  if (e > HIST_MAX_EXP) {
    e = HIST_MAX_EXP;
    v = (1ULL << (HIST_MAX_EXP + 1)) - 1;
  }
  return SUB_COUNT + (e - SUB_BITS) * SUB_COUNT + (int)((v >> (e - SUB_BITS)) - SUB_COUNT);
}

/* The highest value a bucket holds (what HdrHistogram reports as a percentile's value). */
static uint64_t bucket_top(int b) {
  if (b < SUB_COUNT) {
    return (uint64_t)b;
  }
  int e = SUB_BITS + (b - SUB_COUNT) / SUB_COUNT;
  uint64_t sub = (uint64_t)((b - SUB_COUNT) % SUB_COUNT + SUB_COUNT);
  return ((sub + 1) << (e - SUB_BITS)) - 1;
}

static void hist_record(struct histogram *h, uint64_t v) {
  h->counts[bucket_of(v)]++;
  h->total++;
  h->sum += (double)v;
  if (v > h->max) {
    h->max = v;
  }
}

static uint64_t hist_percentile(const struct histogram *h, double pct) {
  if (h->total == 0) {
    return 0;
  }
  long long rank = (long long)ceil(pct / 100.0 * (double)h->total);
  if (rank < 1) {
    rank = 1;
  }
  long long seen = 0;
  for (int b = 0; b < HIST_BUCKETS; b++) {
    seen += h->counts[b];
    if (seen >= rank) {
      uint64_t top = bucket_top(b);
      return top < h->max ? top : h->max;
    }
  }
  return h->max;
}

/* --- Connections --------------------------------------------------------------------------------
 */

enum conn_state { C_CONNECTING, C_OPEN, C_WAITING, C_DONE };

struct slot { /* one request in flight */
  long long seq;
  long long sent_ns;
  int measured;
  char hex[WIRE_SHA1_HEX];
};

struct conn {
  int id;
  int fd;
  enum conn_state state;
  long long reconnect_at;
  long long connect_started;
  uint8_t *rbuf;
  size_t rcap, rlen; /* rbuf[0, rlen): the unfinished reply, if any */
  struct wire_scanner scanner;
  uint8_t *wbuf;
  size_t wcap, wlen, woff; /* wbuf[woff, wlen): written by us, not yet by the kernel */
  int want_write;
  struct slot *ring; /* pipeline slots, by seq % pipeline */
  long long next_seq;
  int in_flight;
  char srcid_head[48]; /* "<prefix><conn>-" */
  size_t srcid_head_len;
};

static struct conn *conns;
static int epfd;
static struct sockaddr_storage target;
static socklen_t target_len;

/* --- Run state ----------------------------------------------------------------------------------
 */

static struct outcomes warm, meas;
static struct histogram latency;
static long long connection_errors, malformed;
static struct {
  char code[64];
  long long count;
} error_codes[MAX_ERROR_CODES + 1]; /* the last entry collects the other codes */
static int error_code_count;
static char first_problems[5][200];
static int problem_count;

static long long t_start, t_measure, t_end, t_last_measured_reply;
static int measuring, stopping, stalled;
static long long last_progress; /* last connect or reply: nothing for --timeout ends the run */
static long long started_total, in_flight_total;
static long long payload_counter;
static uint64_t rng;
static size_t max_request_bytes;
static double cpu_measure_start, cpu_measure_end;
static volatile sig_atomic_t interrupted;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...) {
  if (problem_count < 5) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_problems[problem_count], sizeof(first_problems[0]), fmt, ap);
    va_end(ap);
  }
  problem_count++;
}

static void count_error_code(const char *code) {
  for (int i = 0; i < error_code_count; i++) {
    if (strcmp(error_codes[i].code, code) == 0) {
      error_codes[i].count++;
      return;
    }
  }
  if (error_code_count < MAX_ERROR_CODES) {
    snprintf(error_codes[error_code_count].code, sizeof(error_codes[0].code), "%s", code);
    error_codes[error_code_count++].count = 1;
  } else {
    snprintf(error_codes[MAX_ERROR_CODES].code, sizeof(error_codes[0].code), "other");
    error_codes[MAX_ERROR_CODES].count++;
  }
}

static uint64_t next_random(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ULL;
}

/* --- Requests -----------------------------------------------------------------------------------
 */

/* Printable ASCII that JSON writes as is (no '"', no '\\'), braces and spaces included. */
static const char ASCII_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 {}[]:,.-_+*/=!?#$%&()<>@^|~";
/* --unicode also mixes in characters JSON escapes and 2-, 3- and 4-byte UTF-8 characters. */
static const char *const UNICODE_TOKENS[] = {
    "\"", "\\", "\n", "\t", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe6\x97\xa5"};

/* Makes the payload of the next request at p[0, payload_bytes) (UTF-8 bytes); returns its length.
 */
static size_t make_payload(uint8_t *p) {
  size_t n = (size_t)cfg.payload_bytes;
  char counter[24];
  int digits = snprintf(counter, sizeof(counter), "%lld.", payload_counter++);
  size_t o = 0;
  for (int i = 0; i < digits && o < n; i++) {
    p[o++] = (uint8_t)counter[i];
  }
  while (o < n) {
    uint64_t r = next_random();
    if (cfg.unicode && (r & 3) == 0) {
      const char *t =
          UNICODE_TOKENS[(r >> 8) % (sizeof(UNICODE_TOKENS) / sizeof(UNICODE_TOKENS[0]))];
      size_t len = strlen(t);
      if (o + len <= n) {
        memcpy(p + o, t, len);
        o += len;
        continue;
      }
    }
    p[o++] = (uint8_t)ASCII_CHARS[(r >> 16) % (sizeof(ASCII_CHARS) - 1)];
  }
  return o;
}

static size_t put_str(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  memcpy(out, s, n);
  return n;
}

/* Appends request seq of c to its write buffer and records it in flight. */
static void send_request(struct conn *c, long long now) {
  long long seq = c->next_seq++;
  struct slot *s = &c->ring[seq % cfg.pipeline];
  uint8_t payload[65536];
  size_t payload_len = make_payload(payload);
  wire_sha1_hex(payload, payload_len, s->hex);
  s->seq = seq;
  s->sent_ns = now;
  s->measured = cfg.requests > 0 || now >= t_measure;
  uint8_t *o = c->wbuf + c->wlen;
  size_t k = put_str(o, "{\"type\": \"0\", \"srcid\": \"");
  memcpy(o + k, c->srcid_head, c->srcid_head_len);
  k += c->srcid_head_len;
  k += (size_t)sprintf((char *)o + k, "%lld", seq);
  k += put_str(o + k, "\", \"privPoliId\": \"");
  k += put_str(o + k, cfg.policies[(seq + c->id) % cfg.policy_count]);
  k += put_str(o + k, "\", \"payload\": ");
  k += wire_put_json_string(o + k, (const char *)payload, payload_len);
  o[k++] = '}';
  c->wlen += k;
  c->in_flight++;
  in_flight_total++;
  started_total++;
  if (s->measured) {
    meas.requests++;
  } else {
    warm.requests++;
  }
}

static int may_start(long long now) {
  if (stopping) {
    return 0;
  }
  if (cfg.requests > 0) {
    return started_total < cfg.requests;
  }
  return now < t_end;
}

static void flush(struct conn *c);

/* Closed loop: fills the connection's pipeline while there is room in its write buffer. */
static void send_more(struct conn *c, long long now) {
  if (c->state != C_OPEN) {
    return;
  }
  while (c->in_flight < cfg.pipeline && c->wcap - c->wlen >= max_request_bytes && may_start(now)) {
    send_request(c, now);
  }
  flush(c);
}

/* --- Connection life ----------------------------------------------------------------------------
 */

static void connect_conn(struct conn *c, long long now);

/* The connection failed or was closed: what it had in flight is lost; it is opened again later. */
static void fail_conn(struct conn *c, long long now, const char *why, int oldest_timed_out) {
  connection_errors++;
  problem("connection %d: %s (%d in flight)", c->id, why, c->in_flight);
  for (int k = 0; k < c->in_flight; k++) {
    struct slot *s = &c->ring[(c->next_seq - c->in_flight + k) % cfg.pipeline];
    struct outcomes *o = s->measured ? &meas : &warm;
    if (k == 0 && oldest_timed_out) {
      o->timeouts++;
    } else {
      o->lost++;
    }
  }
  in_flight_total -= c->in_flight;
  c->in_flight = 0;
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
  }
  c->state = C_WAITING;
  c->reconnect_at = now + RECONNECT_DELAY_NS;
}

static void set_events(struct conn *c, int want_write) {
  if (want_write == c->want_write) {
    return;
  }
  c->want_write = want_write;
  struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush(struct conn *c) {
  if (c->state != C_OPEN || c->woff == c->wlen) {
    return;
  }
  ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    fail_conn(c, now_ns(), strerror(errno), 0);
    return;
  }
  if (n > 0) {
    c->woff += (size_t)n;
  }
  if (c->woff == c->wlen) {
    c->woff = c->wlen = 0;
    set_events(c, 0);
  } else {
    if (c->woff > 0) {
      memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
      c->wlen -= c->woff;
      c->woff = 0;
    }
    set_events(c, 1);
  }
}

static void connect_conn(struct conn *c, long long now) {
  c->rlen = 0;
  c->wlen = c->woff = 0;
  wire_scanner_init(&c->scanner, WIRE_MAX_OBJECT);
  c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    fail_conn(c, now, strerror(errno), 0);
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->state = C_CONNECTING;
  c->connect_started = now;
  c->want_write = 1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr *)&target, target_len) < 0 && errno != EINPROGRESS) {
    fail_conn(c, now, strerror(errno), 0);
  }
}

static void opened(struct conn *c, long long now) {
  c->state = C_OPEN;
  last_progress = now;
  set_events(c, 0);
  send_more(c, now);
}

/* --- Replies ------------------------------------------------------------------------------------
 */

static void on_reply(struct conn *c, const uint8_t *obj, size_t len, long long now) {
  if (c->in_flight == 0) {
    malformed++;
    problem("connection %d: a reply with no request in flight: %.*s", c->id,
            (int)(len < 60 ? len : 60), (const char *)obj);
    return;
  }
  long long seq = c->next_seq - c->in_flight;
  struct slot *s = &c->ring[seq % cfg.pipeline];
  c->in_flight--;
  in_flight_total--;
  last_progress = now;
  char srcid[80];
  int srcid_len = snprintf(srcid, sizeof(srcid), "%s%lld", c->srcid_head, seq);
  char code[64];
  struct outcomes *o = s->measured ? &meas : &warm;
  switch (wire_verify_reply(obj, len, srcid, (size_t)srcid_len, s->hex, code, sizeof(code))) {
    case WIRE_OK:
      o->ok++;
      if (s->measured) {
        long long us = (now - s->sent_ns) / 1000;
        hist_record(&latency, (uint64_t)(us < 0 ? 0 : us));
        t_last_measured_reply = now;
      }
      break;
    case WIRE_ERROR:
      o->errors++;
      count_error_code(code);
      problem("error reply to %s: %.*s", srcid, (int)(len < 120 ? len : 120), (const char *)obj);
      break;
    case WIRE_WRONG:
      o->wrong++;
      problem("wrong reply to %s (expected payload %.40s): %.*s", srcid, s->hex,
              (int)(len < 120 ? len : 120), (const char *)obj);
      break;
  }
}

static void on_readable(struct conn *c, long long now) {
  if (c->rcap - c->rlen < READ_CHUNK / 2 && c->rcap < WIRE_MAX_OBJECT + 1) {
    c->rcap = c->rcap * 2 > WIRE_MAX_OBJECT + 1 ? WIRE_MAX_OBJECT + 1 : c->rcap * 2;
    c->rbuf = realloc(c->rbuf, c->rcap);
  }
  if (c->rlen == c->rcap) { /* cannot happen: the scanner stops an object at the limit */
    fail_conn(c, now, "reply buffer full", 0);
    return;
  }
  ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
  if (n == 0) {
    fail_conn(c, now, "connection closed by the server", 0);
    return;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      fail_conn(c, now, strerror(errno), 0);
    }
    return;
  }
  size_t from = c->rlen;
  size_t len = c->rlen + (size_t)n;
  size_t pos = from;
  enum wire_event e;
  while ((e = wire_scan(&c->scanner, c->rbuf, len, &pos)) != WIRE_NEED_INPUT) {
    if (e == WIRE_OBJECT) {
      size_t objlen = c->scanner.object_len;
      on_reply(c, c->rbuf + pos - objlen, objlen, now);
    } else if (e == WIRE_GARBAGE) {
      malformed++;
      problem("connection %d: bytes outside any JSON object", c->id);
    } else {
      malformed++;
      fail_conn(c, now, "a reply larger than 65536 bytes", 0);
      return;
    }
  }
  if (wire_end_of_chunk(&c->scanner)) {
    malformed++;
    problem("connection %d: bytes outside any JSON object", c->id);
  }
  /* Keep only the unfinished object, moved to the front. */
  size_t keep = wire_in_object(&c->scanner) ? c->scanner.object_len : 0;
  if (keep > 0 && len - keep > 0) {
    memmove(c->rbuf, c->rbuf + len - keep, keep);
  }
  c->rlen = keep;
  send_more(c, now);
}

static void on_event(struct conn *c, uint32_t events, long long now) {
  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail_conn(c, now, strerror(err), 0);
      return;
    }
    if (events & (EPOLLOUT | EPOLLIN)) {
      opened(c, now);
    }
    return;
  }
  if (c->state != C_OPEN) {
    return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    on_readable(c, now);
  }
  if (c->state == C_OPEN && (events & EPOLLOUT)) {
    flush(c);
    send_more(c, now);
  }
}

/* Every 100 ms: reconnections due, replies overdue. */
static void housekeeping(long long now) {
  long long timeout_ns = (long long)(cfg.timeout_s * 1e9);
  if (!stopping && now - last_progress > timeout_ns) {
    stopping = stalled = 1;
    problem("nothing connected and no reply came for %gs: giving up", cfg.timeout_s);
  }
  for (int i = 0; i < cfg.connections; i++) {
    struct conn *c = &conns[i];
    if (c->state == C_WAITING && now >= c->reconnect_at) {
      if (may_start(now)) {
        connect_conn(c, now);
      } else {
        c->state = C_DONE;
      }
    } else if (c->state == C_OPEN && c->in_flight > 0) {
      struct slot *s = &c->ring[(c->next_seq - c->in_flight) % cfg.pipeline];
      if (now - s->sent_ns > timeout_ns) {
        fail_conn(c, now, "no reply within the timeout", 1);
      }
    } else if (c->state == C_CONNECTING && now - c->connect_started > timeout_ns) {
      fail_conn(c, now, "connect timed out", 0);
    }
  }
}

/* --- Report -------------------------------------------------------------------------------------
 */

static long long failed(const struct outcomes *o) {
  return o->wrong + o->errors + o->timeouts + o->lost;
}

static int passed(void) {
  return failed(&meas) == 0 && failed(&warm) == 0 && meas.ok > 0 &&
         (cfg.requests == 0 || meas.ok == cfg.requests) && connection_errors == 0 &&
         malformed == 0 && !interrupted && !stalled;
}

static double window_seconds(void) {
  long long end = t_last_measured_reply > t_measure ? t_last_measured_reply : t_measure;
  return (double)(end - t_measure) / 1e9;
}

static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') {
      printf("\\%c", *s);
    } else if ((unsigned char)*s < 0x20) {
      printf("\\u%04x", *s);
    } else {
      putchar(*s);
    }
  }
  putchar('"');
}

static void report_json(void) {
  double window = window_seconds();
  printf("{\"generator\": \"c-loadgen\", \"target\": ");
  char target_text[300];
  snprintf(target_text, sizeof(target_text), "%s:%d", cfg.host, cfg.port);
  print_json_string(target_text);
  printf(
      ", \"tls\": false, \"connections\": %d, \"pipeline\": %d, \"mode\": \"closed\", \"rate\": 0",
      cfg.connections, cfg.pipeline);
  printf(", \"payload_bytes\": %d, \"unicode\": %s, \"policies\": [", cfg.payload_bytes,
         cfg.unicode ? "true" : "false");
  for (int i = 0; i < cfg.policy_count; i++) {
    printf(i ? ", " : "");
    print_json_string(cfg.policies[i]);
  }
  printf("], \"threads\": 1, \"warmup_s\": %.3f", cfg.requests > 0 ? 0.0 : cfg.warmup_s);
  if (cfg.requests > 0) {
    printf(", \"duration_s\": null, \"requests_asked\": %lld", cfg.requests);
  } else {
    printf(", \"duration_s\": %.3f, \"requests_asked\": null", cfg.duration_s);
  }
  long long replies = meas.ok + meas.wrong + meas.errors;
  printf(", \"window_s\": %.3f, \"requests\": %lld, \"replies\": %lld, \"req_per_s\": %.1f", window,
         meas.requests, replies, window > 0 ? (double)replies / window : 0.0);
  printf(", \"ok\": %lld, \"wrong\": %lld, \"error_count\": %lld, \"errors\": {", meas.ok,
         meas.wrong, meas.errors);
  int first = 1;
  for (int i = 0; i <= MAX_ERROR_CODES; i++) {
    if (error_codes[i].count > 0) {
      printf(first ? "" : ", ");
      print_json_string(error_codes[i].code);
      printf(": %lld", error_codes[i].count);
      first = 0;
    }
  }
  printf("}, \"timeouts\": %lld, \"lost\": %lld, \"connection_errors\": %lld, \"malformed\": %lld",
         meas.timeouts, meas.lost, connection_errors, malformed);
  printf(
      ", \"latency_us\": {\"count\": %lld, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, "
      "\"p99_9\": %llu, \"max\": %llu, \"mean\": %.1f}",
      latency.total, (unsigned long long)hist_percentile(&latency, 50),
      (unsigned long long)hist_percentile(&latency, 90),
      (unsigned long long)hist_percentile(&latency, 99),
      (unsigned long long)hist_percentile(&latency, 99.9), (unsigned long long)latency.max,
      latency.total ? latency.sum / (double)latency.total : 0.0);
  printf(", \"warmup\": {\"requests\": %lld, \"ok\": %lld, \"failed\": %lld}", warm.requests,
         warm.ok, failed(&warm));
  printf(", \"total_requests\": %lld, \"generator_cpu_s\": %.4f, \"cpu_s_total\": %.4f",
         meas.requests + warm.requests, cpu_measure_end - cpu_measure_start, cpu_seconds());
  printf(", \"problems\": [");
  for (int i = 0; i < problem_count && i < 5; i++) {
    printf(i ? ", " : "");
    print_json_string(first_problems[i]);
  }
  printf("], \"stalled\": %s, \"passed\": %s}\n", stalled ? "true" : "false",
         passed() ? "true" : "false");
}

static void ms_text(char *out, size_t cap, uint64_t us) {
  if (us >= 1000) {
    snprintf(out, cap, "%.2fms", (double)us / 1000.0);
  } else {
    snprintf(out, cap, "%lluus", (unsigned long long)us);
  }
}

static void report_text(void) {
  double window = window_seconds();
  long long replies = meas.ok + meas.wrong + meas.errors;
  printf("loadgen %s:%d  %d connections x %d in flight, closed loop, ", cfg.host, cfg.port,
         cfg.connections, cfg.pipeline);
  if (cfg.requests > 0) {
    printf("%lld requests\n", cfg.requests);
  } else {
    printf("%gs after %gs warmup\n", cfg.duration_s, cfg.warmup_s);
  }
  printf("  payload %d bytes%s, policies %s, 1 thread (C, epoll)\n", cfg.payload_bytes,
         cfg.unicode ? " (unicode and escapes)" : "", cfg.policies_arg);
  printf("  requests   %lld in %.2fs   %.0f req/s\n", replies, window,
         window > 0 ? (double)replies / window : 0.0);
  if (latency.total > 0) {
    char p50[32], p90[32], p99[32], p999[32], max[32], mean[32];
    ms_text(p50, sizeof(p50), hist_percentile(&latency, 50));
    ms_text(p90, sizeof(p90), hist_percentile(&latency, 90));
    ms_text(p99, sizeof(p99), hist_percentile(&latency, 99));
    ms_text(p999, sizeof(p999), hist_percentile(&latency, 99.9));
    ms_text(max, sizeof(max), latency.max);
    ms_text(mean, sizeof(mean), (uint64_t)(latency.sum / (double)latency.total + 0.5));
    printf("  latency    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n", p50, p90, p99, p999,
           max, mean);
  }
  printf(
      "  verified   %lld ok, %lld wrong, %lld errors, %lld timeouts, %lld lost, %lld connection "
      "errors\n",
      meas.ok, meas.wrong, meas.errors, meas.timeouts, meas.lost, connection_errors);
  if (meas.errors + warm.errors > 0) {
    printf("  errors    ");
    for (int i = 0; i <= MAX_ERROR_CODES; i++) {
      if (error_codes[i].count > 0) {
        printf(" %s=%lld", error_codes[i].code, error_codes[i].count);
      }
    }
    printf("\n");
  }
  if (warm.requests > 0) {
    printf("  warmup     %lld requests, %lld ok, %lld failed\n", warm.requests, warm.ok,
           failed(&warm));
  }
  if (malformed > 0) {
    printf("  malformed  %lld replies that answer no request\n", malformed);
  }
  if (meas.requests > 0) {
    printf("  generator  %.2f us CPU per request (%.2f s while measuring, %.2f s in all)\n",
           (cpu_measure_end - cpu_measure_start) * 1e6 / (double)meas.requests,
           cpu_measure_end - cpu_measure_start, cpu_seconds());
  }
  for (int i = 0; i < problem_count && i < 5; i++) {
    printf("  problem    %s\n", first_problems[i]);
  }
  if (problem_count > 5) {
    printf("  problem    ... and %d more\n", problem_count - 5);
  }
  if (interrupted) {
    printf("  interrupted\n");
  }
  printf(passed() ? "RESULT: OK\n" : "RESULT: FAILED\n");
}

/* --- Options ------------------------------------------------------------------------------------
 */

static void usage(FILE *out) {
  fprintf(
      out,
      "Usage: loadgen [options]\n"
      "\n"
      "A closed-loop load generator for the proxy's protocol that verifies every reply\n"
      "(type \"2\", destid = the srcid sent, payload = SHA-1 hex of the payload sent).\n"
      "\n"
      "  --host HOST            server under load (default 127.0.0.1)\n"
      "  --port PORT            its port (default 2100)\n"
      "  -c, --connections N    connections (default 64)\n"
      "  -p, --pipeline N       requests in flight per connection at most (default 1)\n"
      "  -d, --duration D       measure for D after the warmup (default 10s; 500ms, 3s, 1m)\n"
      "  --warmup D             load before measuring, checked but not counted (default 3s)\n"
      "  -n, --requests N       send exactly N requests instead, no warmup\n"
      "  --timeout D            a reply later than this fails its connection; also the\n"
      "                         drain time at the end (default 10s)\n"
      "  --policy IDS           privPoliId(s), comma-separated, round robin (default 111)\n"
      "  --payload-bytes N      payload length in UTF-8 bytes (default 16)\n"
      "  --unicode              payloads with '\"', '\\', control and non-ASCII characters\n"
      "  --srcid PREFIX         srcid of request seq of connection conn: PREFIXconn-seq\n"
      "  --seed N               seed of the payload characters (default 1)\n"
      "  --json                 one JSON object instead of the report\n"
      "  -h, --help             this help\n"
      "\n"
      "Exit status: 0 if every request got its verified reply, 1 otherwise, 2 for bad options.\n");
}

static void bad(const char *fmt, const char *arg) {
  fprintf(stderr, "loadgen: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see --help)\n");
  exit(2);
}

static long long parse_int(const char *name, const char *s, long long min, long long max) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    char msg[160];
    snprintf(msg, sizeof(msg), "%s needs a whole number from %lld to %lld, got '%%s'", name, min,
             max);
    bad(msg, s);
  }
  return v;
}

/* "3", "3s", "500ms", "1m" -> seconds. */
static double parse_duration(const char *name, const char *s, int zero_ok) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s) {
    v = -1;
  } else if (strcmp(end, "ms") == 0) {
    v /= 1000;
  } else if (strcmp(end, "m") == 0) {
    v *= 60;
  } else if (*end && strcmp(end, "s") != 0) {
    v = -1;
  }
  if (!(v >= 0 && v <= 86400) || (!zero_ok && v == 0)) {
    char msg[160];
    snprintf(msg, sizeof(msg), "%s needs a duration like 500ms, 3s or 1m%s, got '%%s'", name,
             zero_ok ? "" : " (not 0)");
    bad(msg, s);
  }
  return v;
}

static int plain_name(const char *s, size_t max) { /* 1-max chars of A-Z a-z 0-9 . _ - */
  size_t n = strlen(s);
  if (n == 0 || n > max) {
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

static void parse_options(int argc, char **argv) {
  enum {
    O_HOST = 256,
    O_PORT,
    O_WARMUP,
    O_TIMEOUT,
    O_POLICY,
    O_PAYLOAD,
    O_UNICODE,
    O_SRCID,
    O_SEED,
    O_JSON
  };
  static const struct option longs[] = {{"host", required_argument, 0, O_HOST},
                                        {"port", required_argument, 0, O_PORT},
                                        {"connections", required_argument, 0, 'c'},
                                        {"pipeline", required_argument, 0, 'p'},
                                        {"duration", required_argument, 0, 'd'},
                                        {"warmup", required_argument, 0, O_WARMUP},
                                        {"requests", required_argument, 0, 'n'},
                                        {"timeout", required_argument, 0, O_TIMEOUT},
                                        {"policy", required_argument, 0, O_POLICY},
                                        {"policies", required_argument, 0, O_POLICY},
                                        {"payload-bytes", required_argument, 0, O_PAYLOAD},
                                        {"unicode", no_argument, 0, O_UNICODE},
                                        {"srcid", required_argument, 0, O_SRCID},
                                        {"seed", required_argument, 0, O_SEED},
                                        {"json", no_argument, 0, O_JSON},
                                        {"help", no_argument, 0, 'h'},
                                        {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "c:p:d:n:h", longs, NULL)) != -1) {
    switch (opt) {
      case O_HOST: cfg.host = optarg; break;
      case O_PORT: cfg.port = (int)parse_int("--port", optarg, 1, 65535); break;
      case 'c': cfg.connections = (int)parse_int("--connections", optarg, 1, 100000); break;
      case 'p': cfg.pipeline = (int)parse_int("--pipeline", optarg, 1, 4096); break;
      case 'd': cfg.duration_s = parse_duration("--duration", optarg, 0); break;
      case O_WARMUP: cfg.warmup_s = parse_duration("--warmup", optarg, 1); break;
      case 'n': cfg.requests = parse_int("--requests", optarg, 1, 1000000000000LL); break;
      case O_TIMEOUT: cfg.timeout_s = parse_duration("--timeout", optarg, 0); break;
      case O_POLICY: cfg.policies_arg = optarg; break;
      case O_PAYLOAD:
        cfg.payload_bytes = (int)parse_int("--payload-bytes", optarg, 1, 16000);
        break;
      case O_UNICODE: cfg.unicode = 1; break;
      case O_SRCID:
        if (strlen(optarg) > 24 || (*optarg && !plain_name(optarg, 24))) {
          bad("--srcid needs at most 24 characters of A-Z a-z 0-9 . _ -, got '%s'", optarg);
        }
        cfg.srcid_prefix = optarg;
        break;
      case O_SEED: cfg.seed = (uint64_t)parse_int("--seed", optarg, 1, INT64_MAX); break;
      case O_JSON: cfg.json = 1; break;
      case 'h': usage(stdout); exit(0);
      default: usage(stderr); exit(2);
    }
  }
  if (optind < argc) {
    bad("unexpected argument '%s'", argv[optind]);
  }
  char *list = strdup(cfg.policies_arg);
  for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    if (!plain_name(p, 64)) {
      bad("a policy id is 1-64 characters of A-Z a-z 0-9 . _ -, got '%s'", p);
    }
    if (cfg.policy_count == MAX_POLICIES) {
      bad("at most 16 policies, got '%s'", cfg.policies_arg);
    }
    cfg.policies[cfg.policy_count++] = p;
  }
  if (cfg.policy_count == 0) {
    bad("--policy needs at least one id, got '%s'", cfg.policies_arg);
  }
  /* Payload characters JSON escapes take up to 6 bytes each; the request must fit the proxy's
   * limit. */
  max_request_bytes = 200 + 24 + 11 + 20 + 64 + (size_t)cfg.payload_bytes * (cfg.unicode ? 6 : 1);
  if (max_request_bytes > WIRE_MAX_OBJECT) {
    bad("--payload-bytes is too large for a 65536-byte packet%s",
        cfg.unicode ? " with --unicode" : "");
  }
  rng = cfg.seed * 0x9E3779B97F4A7C15ULL | 1;
}

static void resolve_target(void) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  char port[8];
  snprintf(port, sizeof(port), "%d", cfg.port);
  int rc = getaddrinfo(cfg.host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "loadgen: cannot resolve %s: %s\n", cfg.host, gai_strerror(rc));
    exit(2);
  }
  memcpy(&target, res->ai_addr, res->ai_addrlen);
  target_len = res->ai_addrlen;
  freeaddrinfo(res);
}

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

int main(int argc, char **argv) {
  parse_options(argc, argv);
  resolve_target();
  if (wire_sha1_init() != 0) {
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)cfg.connections + 64) {
    rl.rlim_cur =
        rl.rlim_max < (rlim_t)cfg.connections + 64 ? rl.rlim_max : (rlim_t)cfg.connections + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)cfg.connections, sizeof(*conns));
  size_t wcap = max_request_bytes * (size_t)cfg.pipeline;
  if (wcap > 256 * 1024) {
    wcap = 256 * 1024 > max_request_bytes ? 256 * 1024 : max_request_bytes;
  }
  t_start = now_ns();
  last_progress = t_start;
  if (cfg.requests > 0) {
    t_measure = t_start;
    t_end = INT64_MAX;
  } else {
    t_measure = t_start + (long long)(cfg.warmup_s * 1e9);
    t_end = t_measure + (long long)(cfg.duration_s * 1e9);
  }
  measuring = t_measure == t_start;
  cpu_measure_start = cpu_seconds();
  for (int i = 0; i < cfg.connections; i++) {
    struct conn *c = &conns[i];
    c->id = i;
    c->fd = -1;
    c->rcap = READ_CHUNK;
    c->rbuf = malloc(c->rcap);
    c->wcap = wcap;
    c->wbuf = malloc(wcap);
    c->ring = calloc((size_t)cfg.pipeline, sizeof(struct slot));
    c->srcid_head_len =
        (size_t)snprintf(c->srcid_head, sizeof(c->srcid_head), "%s%d-", cfg.srcid_prefix, i);
    connect_conn(c, t_start);
  }
  struct epoll_event events[256];
  long long next_housekeeping = t_start;
  long long drain_deadline = 0;
  for (;;) {
    long long now = now_ns();
    if (!measuring && now >= t_measure) {
      measuring = 1;
      cpu_measure_start = cpu_seconds();
    }
    if (interrupted && !stopping) {
      stopping = 1;
    }
    int sending = may_start(now);
    if (!sending && drain_deadline == 0) {
      drain_deadline = now + (long long)(cfg.timeout_s * 1e9);
    }
    if (!sending && (in_flight_total == 0 || now >= drain_deadline || interrupted)) {
      break;
    }
    if (now >= next_housekeeping) {
      housekeeping(now);
      next_housekeeping = now + 100000000LL;
    }
    long long wake = next_housekeeping;
    if (!measuring && t_measure < wake)
      wake = t_measure;
    if (sending && t_end < wake)
      wake = t_end;
    int wait_ms = (int)((wake - now + 999999) / 1000000);
    int n = epoll_wait(epfd, events, 256, wait_ms < 0 ? 0 : wait_ms);
    if (n < 0 && errno != EINTR) {
      perror("loadgen: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      on_event(events[i].data.ptr, events[i].events, now_ns());
    }
  }
  cpu_measure_end = cpu_seconds();
  /* Whatever is still in flight after the drain got no reply in time. */
  for (int i = 0; i < cfg.connections; i++) {
    struct conn *c = &conns[i];
    for (int k = 0; k < c->in_flight; k++) {
      struct slot *s = &c->ring[(c->next_seq - c->in_flight + k) % cfg.pipeline];
      (s->measured ? &meas : &warm)->timeouts++;
    }
    if (c->in_flight > 0) {
      problem("connection %d: %d requests without a reply at the end", c->id, c->in_flight);
    }
    if (c->fd >= 0) {
      close(c->fd);
    }
  }
  if (cfg.json) {
    report_json();
  } else {
    report_text();
  }
  return passed() ? 0 : 1;
}
