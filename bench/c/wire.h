/*
 * The proxy's wire protocol for the C load tools (loadgen.c, backend.c): framing of back-to-back
 * JSON objects, the few fields of one object, JSON string decoding, SHA-1 hex, and the two
 * protocol decisions of the tools (is this reply the right answer to that request; what does a
 * backend answer to that frame). No sockets here, so wire_test.c can test all of it.
 *
 * The framing rules are those of the proxy's JsonObjectScanner (src/main/java/revproxy/protocol):
 * whitespace between objects is skipped, only braces outside strings count, anything else between
 * objects is garbage (a run ends at the next '{' or at the end of a read), and an object longer
 * than the limit stops the scanner.
 */
#ifndef REVPROXY_WIRE_H
#define REVPROXY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAX_OBJECT 65536 /* the proxy's default max-packet-bytes */
#define WIRE_SHA1_HEX 40

/* --- SHA-1 ------------------------------------------------------------------------------------ */

/* Prepares the digest (OpenSSL libcrypto); returns 0, or -1 with a message on stderr. */
int wire_sha1_init(void);
/* The lowercase hex SHA-1 of data[0, len) into hex[0, 40) (no terminating NUL). */
void wire_sha1_hex(const void *data, size_t len, char hex[WIRE_SHA1_HEX]);

/* --- Framing ---------------------------------------------------------------------------------- */

enum wire_event {
  WIRE_NEED_INPUT, /* every byte up to the end is consumed */
  WIRE_OBJECT,     /* the byte just consumed closed an object of object_len bytes */
  WIRE_GARBAGE,    /* a garbage run ended at a '{' (not consumed yet) */
  WIRE_TOO_LARGE   /* the object exceeded the limit; the scanner is stuck until reset */
};

struct wire_scanner {
  size_t max_object;
  int depth;
  int in_string;
  int escaped;
  int too_large;
  size_t object_len;
  size_t run_len; /* open garbage run: bytes up to its last non-whitespace byte; 0 = none */
  size_t run_ws;
};

void wire_scanner_init(struct wire_scanner *s, size_t max_object);
/*
 * Scans buf[*pos, len) up to the first event and leaves *pos just past the last byte consumed. An
 * object that WIRE_OBJECT reports is buf[*pos - s->object_len, *pos).
 */
enum wire_event wire_scan(struct wire_scanner *s, const uint8_t *buf, size_t len, size_t *pos);
/* A read ends here: returns 1 (and forgets it) if a garbage run was open. */
int wire_end_of_chunk(struct wire_scanner *s);
/* Whether an object is started and not finished: its bytes so far are the last object_len. */
int wire_in_object(const struct wire_scanner *s);

/* --- Fields of one object --------------------------------------------------------------------- */

enum wire_kind { WIRE_ABSENT = 0, WIRE_STRING, WIRE_SCALAR, WIRE_NESTED };

struct wire_value {
  enum wire_kind kind;
  const uint8_t *start; /* string: its content between the quotes, as written; else the value */
  size_t len;
  int escapes; /* a string holding backslashes */
};

enum { WF_TYPE, WF_SRCID, WF_DESTID, WF_PAYLOAD, WF_CODE, WF_PRIVPOLIID, WF_COUNT };

struct wire_fields {
  struct wire_value v[WF_COUNT];
};

/*
 * Locates the fields named above in obj[0, len), one JSON object. Returns 0, or -1 if it is not a
 * well-formed object at the top level (nested values are skipped, not validated) or holds one of
 * those keys twice.
 */
int wire_parse_fields(const uint8_t *obj, size_t len, struct wire_fields *f);

/*
 * Decodes a JSON string's content (escapes included) into UTF-8 at out[0, cap). \uXXXX escapes of
 * surrogate pairs make one 4-byte character; a lone surrogate becomes '?', as Java's
 * String.getBytes(UTF_8) makes it. Returns the length, or -1 for an invalid escape, a raw control
 * character or too little room.
 */
long wire_json_decode(const uint8_t *s, size_t len, uint8_t *out, size_t cap);

/* Whether a string value decodes to exactly expected[0, expected_len). */
int wire_string_equals(const struct wire_value *v, const void *expected, size_t expected_len);

/* The type field's one character ('0'-'9' as "0" or 0), or 0 if absent or anything else. */
char wire_type(const struct wire_value *v);

/* --- The load generator's check of one reply ------------------------------------------------ */

enum wire_verdict { WIRE_OK, WIRE_WRONG, WIRE_ERROR };

/*
 * Checks reply[0, len) as the answer to the request whose srcid and payload SHA-1 hex are given:
 * WIRE_OK for a type "2" with that destid and that payload; WIRE_ERROR for a type "3", with its
 * code decoded into code[0, code_cap) (NUL-terminated, cut if longer; "?" if it has none);
 * WIRE_WRONG for anything else.
 */
enum wire_verdict wire_verify_reply(const uint8_t *reply, size_t len, const char *srcid,
                                    size_t srcid_len, const char hex[WIRE_SHA1_HEX], char *code,
                                    size_t code_cap);

/* --- The backend's answer to one frame ------------------------------------------------------ */

/* Room an answer may need: a reply, or an error echoing a srcid of up to a whole frame. */
#define WIRE_MAX_ANSWER (2 * WIRE_MAX_OBJECT + 256)

/*
 * What a backend writes for one frame, appended at out (which has WIRE_MAX_ANSWER bytes free):
 * {"type": "2", "srcid": "<server_id>", "destid": <the request's srcid as written>,
 * "payloadsize": 40, "payload": "<sha1 hex>"} for a type "0" request, as server.py writes it
 * (json.dumps separators, no newline); else a type "3" error with the proxy's codes. Returns the
 * bytes written. scratch needs WIRE_MAX_OBJECT bytes (the decoded payload).
 */
size_t wire_answer(const uint8_t *frame, size_t len, const char *server_id, uint8_t *out,
                   uint8_t *scratch);
/* The error for a run of non-JSON bytes between objects, appended at out; returns its length. */
size_t wire_answer_garbage(uint8_t *out);
/* The error for an object over the limit (the connection is closed after it). */
size_t wire_answer_too_large(uint8_t *out);

/* Appends a string as a JSON string (quotes added; '"', '\\' and control bytes escaped). */
size_t wire_put_json_string(uint8_t *out, const char *s, size_t len);

#endif
