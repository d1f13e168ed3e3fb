/*
 * Tests of wire.c (SHA-1 vectors, framing, reply checks, backend answers), and two scripted peers
 * that bench/c/test.sh runs against the real binaries:
 *
 *   wire_test                              the unit tests; "N passed, N failed", exit 1 on a
 * failure wire_test --fake-server PORT good|bad  accepts one connection, reads two requests,
 * answers both in ONE write (the second with a wrong hash if bad) wire_test --two-requests PORT
 * writes two requests in ONE write to a backend and checks both replies, in order
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

static int passed_count, failed_count;

#define CHECK(cond, ...)                          \
  do {                                            \
    if (cond) {                                   \
      passed_count++;                             \
    } else {                                      \
      failed_count++;                             \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                        \
      printf("\n");                               \
    }                                             \
  } while (0)

static const uint8_t *u8(const char *s) {
  return (const uint8_t *)s;
}

static void hex_of(const char *s, size_t len, char out[WIRE_SHA1_HEX + 1]) {
  wire_sha1_hex(s, len, out);
  out[WIRE_SHA1_HEX] = 0;
}

static void test_sha1_vectors(void) {
  static const struct {
    const char *in;
    const char *hex;
  } vectors[] = {
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {"The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
      {"xyz3", "02507026f1cd2e04059c1ee524381f1aa785661c"}, /* the original's packets/3.json */
  };
  char hex[WIRE_SHA1_HEX + 1];
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    hex_of(vectors[i].in, strlen(vectors[i].in), hex);
    CHECK(strcmp(hex, vectors[i].hex) == 0, "sha1(\"%s\") = %s, expected %s", vectors[i].in, hex,
          vectors[i].hex);
  }
  size_t million = 1000000;
  char *a = malloc(million);
  memset(a, 'a', million);
  hex_of(a, million, hex);
  free(a);
  CHECK(strcmp(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0, "sha1(a x 1e6) = %s", hex);
}

/* Scans text in chunks of `step` bytes (0 = all at once) as a reader does; collects the objects. */
static int frame_all(const char *text, size_t step, char objects[][256], int max, int *garbage) {
  struct wire_scanner s;
  wire_scanner_init(&s, 200);
  uint8_t buf[4096];
  size_t held = 0, total = strlen(text), fed = 0;
  int count = 0;
  *garbage = 0;
  while (fed < total) {
    size_t n = step == 0 || total - fed < step ? total - fed : step;
    memcpy(buf + held, text + fed, n);
    fed += n;
    size_t len = held + n, pos = held;
    enum wire_event e;
    while ((e = wire_scan(&s, buf, len, &pos)) != WIRE_NEED_INPUT) {
      if (e == WIRE_OBJECT && count < max) {
        snprintf(objects[count++], 256, "%.*s", (int)s.object_len,
                 (const char *)buf + pos - s.object_len);
      } else if (e == WIRE_GARBAGE) {
        (*garbage)++;
      } else if (e == WIRE_TOO_LARGE) {
        return -1;
      }
    }
    *garbage += wire_end_of_chunk(&s);
    size_t keep = wire_in_object(&s) ? s.object_len : 0;
    memmove(buf, buf + len - keep, keep);
    held = keep;
  }
  return count;
}

static void test_framing(void) {
  char objects[8][256];
  int garbage;
  const char *two = "{\"type\": \"2\", \"destid\": \"0-0\"}{\"type\": \"2\", \"destid\": \"0-1\"}";
  int n = frame_all(two, 0, objects, 8, &garbage);
  CHECK(n == 2 && garbage == 0, "two replies in one read: %d objects, %d garbage", n, garbage);
  CHECK(n == 2 && strcmp(objects[0], "{\"type\": \"2\", \"destid\": \"0-0\"}") == 0 &&
            strcmp(objects[1], "{\"type\": \"2\", \"destid\": \"0-1\"}") == 0,
        "two replies in one read: '%s' '%s'", objects[0], objects[1]);
  for (size_t step = 1; step <= 7; step++) {
    n = frame_all(two, step, objects, 8, &garbage);
    CHECK(
        n == 2 && garbage == 0 && strcmp(objects[1], "{\"type\": \"2\", \"destid\": \"0-1\"}") == 0,
        "two replies in reads of %zu bytes: %d objects", step, n);
  }
  const char *tricky = " {\"a\": \"}{\\\"\", \"b\": {\"c\": \"\\\\\"}}\n\t{\"d\": 1} ";
  n = frame_all(tricky, 0, objects, 8, &garbage);
  CHECK(n == 2 && garbage == 0 &&
            strcmp(objects[0], "{\"a\": \"}{\\\"\", \"b\": {\"c\": \"\\\\\"}}") == 0,
        "braces, quotes and backslashes in strings: %d objects, first '%s'", n,
        n > 0 ? objects[0] : "");
  n = frame_all("xx {\"a\": 1} yy", 0, objects, 8, &garbage);
  CHECK(n == 1 && garbage == 2, "garbage around an object: %d objects, %d garbage runs", n,
        garbage);
  char big[300];
  memset(big, 'x', sizeof(big));
  memcpy(big, "{\"a\": \"", 7);
  memcpy(big + sizeof(big) - 3, "\"}", 3);
  CHECK(frame_all(big, 0, objects, 8, &garbage) == -1, "an object over the limit is too large");
}

static void test_decode(void) {
  uint8_t out[64];
  const char *escaped = "a\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/";
  long n = wire_json_decode(u8(escaped), strlen(escaped), out, sizeof(out));
  CHECK(n == 11 && memcmp(out, "a\xc3\xa9\xf0\x9f\x98\x80\n\"\\/", 11) == 0,
        "escapes decode to UTF-8 (%ld)", n);
  n = wire_json_decode(u8("x\\ud800"), 7, out, sizeof(out));
  CHECK(n == 2 && memcmp(out, "x?", 2) == 0, "a lone surrogate becomes '?' (%ld)", n);
  CHECK(wire_json_decode(u8("\\x"), 2, out, sizeof(out)) == -1, "an invalid escape is refused");
  CHECK(wire_json_decode(u8("\\u12"), 4, out, sizeof(out)) == -1, "a short \\u escape is refused");
}

static void test_verify(void) {
  char hex[WIRE_SHA1_HEX + 1], code[64];
  hex_of("xyz3", 4, hex);
  char reply[256];
  snprintf(reply, sizeof(reply),
           "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"7-3\", \"payloadsize\": 40, "
           "\"payload\": \"%s\"}",
           hex);
#define VERIFY(text, srcid) \
  wire_verify_reply(u8(text), strlen(text), srcid, strlen(srcid), hex, code, sizeof(code))
  CHECK(VERIFY(reply, "7-3") == WIRE_OK, "a right reply verifies");
  CHECK(VERIFY(reply, "7-4") == WIRE_WRONG, "another request's reply is wrong");
  char bad[256];
  snprintf(bad, sizeof(bad), "{\"type\": \"2\", \"destid\": \"7-3\", \"payload\": \"%.39s0\"}",
           hex);
  CHECK(VERIFY(bad, "7-3") == WIRE_WRONG, "a wrong hash is wrong");
  snprintf(bad, sizeof(bad), "{\"type\": 2, \"destid\": \"7\\u002d3\", \"payload\": \"%s\"}", hex);
  CHECK(VERIFY(bad, "7-3") == WIRE_OK, "numeric type and an escaped but equal destid verify");
  snprintf(bad, sizeof(bad),
           "{\"type\": \"2\", \"destid\": \"7-3\", \"payload\": \"%s\", \"payload\": \"x\"}", hex);
  CHECK(VERIFY(bad, "7-3") == WIRE_WRONG, "a duplicate key is wrong");
  snprintf(bad, sizeof(bad), "{\"type\": \"2\", \"destid\": \"7-3\"}");
  CHECK(VERIFY(bad, "7-3") == WIRE_WRONG, "a reply without payload is wrong");
  snprintf(bad, sizeof(bad), "{\"type\": \"2\", \"destid\": \"7-3\", \"payload\": \"%s\"", hex);
  CHECK(VERIFY(bad, "7-3") == WIRE_WRONG, "an unfinished object is wrong");
  const char *error =
      "{\"type\": \"3\", \"destid\": \"7-3\", \"code\": \"no_worker_for_policy\", \"message\": "
      "\"m\"}";
  CHECK(VERIFY(error, "7-3") == WIRE_ERROR && strcmp(code, "no_worker_for_policy") == 0,
        "a type 3 is an error with its code (%s)", code);
#undef VERIFY
}

static size_t answer(const char *frame, char *out) {
  static uint8_t scratch[WIRE_MAX_OBJECT];
  static uint8_t buf[WIRE_MAX_ANSWER];
  size_t n = wire_answer(u8(frame), strlen(frame), "100", buf, scratch);
  memcpy(out, buf, n);
  out[n] = 0;
  return n;
}

static void test_answers(void) {
  char out[1024], expected[512], hex[WIRE_SHA1_HEX + 1];
  hex_of("xyz3", 4, hex);
  answer("{\"type\": \"0\", \"srcid\": \"3\", \"privPoliId\": \"222\", \"payload\": \"xyz3\"}",
         out);
  snprintf(expected, sizeof(expected),
           "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3\", \"payloadsize\": 40, "
           "\"payload\": \"%s\"}",
           hex);
  CHECK(strcmp(out, expected) == 0, "the reply server.py writes: %s", out);
  answer(
      "{\"type\": 0, \"srcid\": 15, \"privPoliId\": 999, \"payloadsize\": 4, \"payload\": "
      "\"xyz3\"}",
      out);
  CHECK(strstr(out, "\"destid\": 15, ") != NULL && strstr(out, hex) != NULL,
        "numeric type and srcid (the tutorial's form): %s", out);
  answer(
      "{\"type\": \"0\", \"srcid\": \"u\", \"privPoliId\": \"1\", \"payload\": "
      "\"x\\u00e9\\u20ac\\ud83d\\ude00\\\"\\\\\\n\"}",
      out);
  CHECK(strstr(out, "21e39edd01a082a72191ea4d7fe284d20b1b941c") != NULL,
        "the hash is of the decoded UTF-8: %s", out);
  answer("{\"type\": \"1\", \"id\": \"5\", \"privPolyId\": \"1\", \"listenport\": \"9\"}", out);
  CHECK(strstr(out, "\"code\": \"unsupported_type\"") != NULL, "a registration is refused: %s",
        out);
  answer("{\"type\": \"0\", \"srcid\": \"4\", \"privPoliId\": \"1\"}", out);
  CHECK(strstr(out, "\"destid\": \"4\", \"code\": \"missing_field\"") != NULL, "no payload: %s",
        out);
  answer("{\"type\": \"0\" \"srcid\": 1}", out);
  CHECK(strstr(out, "\"destid\": null, \"code\": \"malformed_json\"") != NULL, "malformed: %s",
        out);
}

/* --- Scripted peers ------------------------------------------------------------------------------
 */

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0) {
    perror("wire_test: listen");
    exit(2);
  }
  return fd;
}

/* Reads from fd until `want` objects are framed (or 5 s pass); returns how many, bounds in bounds.
 */
static int read_objects(int fd, uint8_t *buf, size_t cap, int want, size_t bounds[][2]) {
  struct wire_scanner s;
  wire_scanner_init(&s, WIRE_MAX_OBJECT);
  size_t len = 0, pos = 0;
  int count = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (count < want && poll(&p, 1, 5000) > 0) {
    ssize_t n = read(fd, buf + len, cap - len);
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
    enum wire_event e;
    while ((e = wire_scan(&s, buf, len, &pos)) != WIRE_NEED_INPUT) {
      if (e == WIRE_OBJECT && count < want) {
        bounds[count][0] = pos - s.object_len;
        bounds[count][1] = pos;
        count++;
      }
    }
  }
  return count;
}

static int fake_server(int port, int bad_second) {
  int listener = listen_on(port);
  struct pollfd p = {.fd = listener, .events = POLLIN};
  if (poll(&p, 1, 10000) <= 0) {
    fprintf(stderr, "wire_test: nobody connected within 10 s\n");
    return 2;
  }
  int fd = accept(listener, NULL, NULL);
  static uint8_t in[4 * WIRE_MAX_OBJECT], out[2 * WIRE_MAX_ANSWER], scratch[WIRE_MAX_OBJECT];
  size_t bounds[2][2];
  if (read_objects(fd, in, sizeof(in), 2, bounds) != 2) {
    fprintf(stderr, "wire_test: did not get two requests\n");
    return 2;
  }
  size_t n = wire_answer(in + bounds[0][0], bounds[0][1] - bounds[0][0], "fake", out, scratch);
  size_t second = n;
  n += wire_answer(in + bounds[1][0], bounds[1][1] - bounds[1][0], "fake", out + n, scratch);
  if (bad_second) {
    uint8_t *last = out + n - 3; /* the hash's last digit, before "} */
    *last = *last == '0' ? '1' : '0';
  }
  if (write(fd, out, n) != (ssize_t)n) { /* both replies in one write */
    perror("wire_test: write");
    return 2;
  }
  fprintf(stderr, "wire_test: answered two requests in one write of %zu bytes (%zu + %zu)\n", n,
          second, n - second);
  char rest[256];
  while (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 5000) > 0 &&
         read(fd, rest, sizeof(rest)) > 0) {
  }
  close(fd);
  return 0;
}

static int two_requests(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    perror("wire_test: connect");
    return 2;
  }
  const char *requests =
      "{\"type\": \"0\", \"srcid\": \"r1\", \"privPoliId\": \"111\", \"payload\": \"xyz3\"}"
      "{\"type\": \"0\", \"srcid\": \"r2\", \"privPoliId\": \"111\", \"payload\": \"abc\"}";
  if (write(fd, requests, strlen(requests)) != (ssize_t)strlen(requests)) {
    perror("wire_test: write");
    return 2;
  }
  static uint8_t in[4096];
  size_t bounds[2][2];
  int n = read_objects(fd, in, sizeof(in), 2, bounds);
  close(fd);
  char code[64];
  int ok =
      n == 2 &&
      wire_verify_reply(in + bounds[0][0], bounds[0][1] - bounds[0][0], "r1", 2,
                        "02507026f1cd2e04059c1ee524381f1aa785661c", code,
                        sizeof(code)) == WIRE_OK &&
      wire_verify_reply(in + bounds[1][0], bounds[1][1] - bounds[1][0], "r2", 2,
                        "a9993e364706816aba3e25717850c26c9cd0d89d", code, sizeof(code)) == WIRE_OK;
  printf("two requests in one write: %d replies%s\n", n,
         ok ? ", both verified in order" : ", NOT verified");
  if (n > 0) {
    printf("  %.*s\n", (int)(bounds[n - 1][1] - bounds[0][0]), (const char *)in + bounds[0][0]);
  }
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (wire_sha1_init() != 0) {
    return 2;
  }
  if (argc == 4 && strcmp(argv[1], "--fake-server") == 0) {
    return fake_server(atoi(argv[2]), strcmp(argv[3], "bad") == 0);
  }
  if (argc == 3 && strcmp(argv[1], "--two-requests") == 0) {
    return two_requests(atoi(argv[2]));
  }
  if (argc != 1) {
    fprintf(stderr, "usage: wire_test [--fake-server PORT good|bad | --two-requests PORT]\n");
    return 2;
  }
  test_sha1_vectors();
  test_framing();
  test_decode();
  test_verify();
  test_answers();
  printf("%d passed, %d failed\n", passed_count, failed_count);
  return failed_count == 0 ? 0 : 1;
}
