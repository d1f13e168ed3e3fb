/* The wire protocol for the C load tools: see wire.h. */
#include "wire.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* --- SHA-1 ------------------------------------------------------------------------------------ */

static EVP_MD *sha1_md;
static EVP_MD_CTX *sha1_ctx;

int wire_sha1_init(void) {
  if (sha1_ctx != NULL) {
    return 0;
  }
  /* Fetched once: EVP_sha1() in every call would look the algorithm up each time. */
  sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
  sha1_ctx = EVP_MD_CTX_new();
  if (sha1_md == NULL || sha1_ctx == NULL) {
    fprintf(stderr, "OpenSSL libcrypto has no SHA-1\n");
    return -1;
  }
  return 0;
}

void wire_sha1_hex(const void *data, size_t len, char hex[WIRE_SHA1_HEX]) {
  static const char digits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_DigestInit_ex(sha1_ctx, sha1_md, NULL) != 1 ||
      EVP_DigestUpdate(sha1_ctx, data, len) != 1 ||
      EVP_DigestFinal_ex(sha1_ctx, md, &md_len) != 1 || md_len != 20) {
    /* Cannot happen with a working libcrypto; a hash of all 'x' can never verify. */
    memset(hex, 'x', WIRE_SHA1_HEX);
    return;
  }
  for (int i = 0; i < 20; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
}

/* --- Framing ---------------------------------------------------------------------------------- */

static int is_ws(uint8_t b) {
  return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

void wire_scanner_init(struct wire_scanner *s, size_t max_object) {
  memset(s, 0, sizeof(*s));
  s->max_object = max_object;
}

enum wire_event wire_scan(struct wire_scanner *s, const uint8_t *buf, size_t len, size_t *pos) {
  if (s->too_large) {
    return WIRE_TOO_LARGE;
  }
  for (size_t p = *pos; p < len; p++) {
    uint8_t b = buf[p];
    if (s->depth == 0) {
      if (b == '{') {
        if (s->run_len > 0) {
          *pos = p;
          s->run_len = 0;
          return WIRE_GARBAGE;
        }
        s->depth = 1;
        s->object_len = 1;
      } else if (is_ws(b)) {
        s->run_ws++;
      } else if (s->run_len == 0) {
        s->run_len = 1;
        s->run_ws = 0;
      } else {
        s->run_len += s->run_ws + 1;
        s->run_ws = 0;
      }
      continue;
    }
    if (++s->object_len > s->max_object) {
      s->too_large = 1;
      *pos = p + 1;
      return WIRE_TOO_LARGE;
    }
    if (s->in_string) {
      if (s->escaped) {
        s->escaped = 0;
      } else if (b == '\\') {
        s->escaped = 1;
      } else if (b == '"') {
        s->in_string = 0;
      }
    } else if (b == '"') {
      s->in_string = 1;
    } else if (b == '{') {
      s->depth++;
    } else if (b == '}' && --s->depth == 0) {
      *pos = p + 1;
      return WIRE_OBJECT;
    }
  }
  *pos = len;
  return WIRE_NEED_INPUT;
}

int wire_end_of_chunk(struct wire_scanner *s) {
  if (s->run_len == 0) {
    return 0;
  }
  s->run_len = 0;
  return 1;
}

int wire_in_object(const struct wire_scanner *s) {
  return s->depth > 0 && !s->too_large;
}

/* --- Fields of one object --------------------------------------------------------------------- */

static const char *const FIELD_NAMES[WF_COUNT] = {"type",    "srcid", "destid",
                                                  "payload", "code",  "privPoliId"};

static size_t skip_ws(const uint8_t *b, size_t i, size_t to) {
  while (i < to && is_ws(b[i])) {
    i++;
  }
  return i;
}

/* Index of the closing quote of a string whose content starts at i, or (size_t)-1. */
static size_t string_end(const uint8_t *b, size_t i, size_t to) {
  while (i < to) {
    if (b[i] == '\\') {
      i += 2;
    } else if (b[i] == '"') {
      return i;
    } else {
      i++;
    }
  }
  return (size_t)-1;
}

/* Index just past the nested object or array that opens at i, or (size_t)-1. */
static size_t nested_end(const uint8_t *b, size_t i, size_t to) {
  int depth = 0;
  while (i < to) {
    uint8_t c = b[i];
    if (c == '"') {
      i = string_end(b, i + 1, to);
      if (i == (size_t)-1) {
        return i;
      }
    } else if (c == '{' || c == '[') {
      depth++;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
    i++;
  }
  return (size_t)-1;
}

static int field_of(const uint8_t *key, size_t len, int escapes) {
  uint8_t decoded[64];
  if (escapes) {
    long n = wire_json_decode(key, len, decoded, sizeof(decoded));
    if (n < 0) {
      return -1;
    }
    key = decoded;
    len = (size_t)n;
  }
  for (int f = 0; f < WF_COUNT; f++) {
    if (strlen(FIELD_NAMES[f]) == len && memcmp(FIELD_NAMES[f], key, len) == 0) {
      return f;
    }
  }
  return -1;
}

int wire_parse_fields(const uint8_t *b, size_t to, struct wire_fields *f) {
  memset(f, 0, sizeof(*f));
  size_t i = skip_ws(b, 0, to);
  if (i >= to || b[i] != '{') {
    return -1;
  }
  i = skip_ws(b, i + 1, to);
  if (i < to && b[i] == '}') {
    return skip_ws(b, i + 1, to) == to ? 0 : -1;
  }
  while (i < to) {
    if (b[i] != '"') {
      return -1;
    }
    size_t key_start = i + 1;
    size_t key_end = string_end(b, key_start, to);
    if (key_end == (size_t)-1) {
      return -1;
    }
    int field = field_of(b + key_start, key_end - key_start,
                         memchr(b + key_start, '\\', key_end - key_start) != NULL);
    i = skip_ws(b, key_end + 1, to);
    if (i >= to || b[i] != ':') {
      return -1;
    }
    i = skip_ws(b, i + 1, to);
    if (i >= to) {
      return -1;
    }
    struct wire_value v = {0};
    if (b[i] == '"') {
      size_t end = string_end(b, i + 1, to);
      if (end == (size_t)-1) {
        return -1;
      }
      v.kind = WIRE_STRING;
      v.start = b + i + 1;
      v.len = end - i - 1;
      v.escapes = memchr(v.start, '\\', v.len) != NULL;
      i = end + 1;
    } else if (b[i] == '{' || b[i] == '[') {
      size_t end = nested_end(b, i, to);
      if (end == (size_t)-1) {
        return -1;
      }
      v.kind = WIRE_NESTED;
      v.start = b + i;
      v.len = end - i;
      i = end;
    } else {
      size_t start = i;
      while (i < to && b[i] != ',' && b[i] != '}' && !is_ws(b[i])) {
        i++;
      }
      if (i == start) {
        return -1;
      }
      v.kind = WIRE_SCALAR;
      v.start = b + start;
      v.len = i - start;
    }
    if (field >= 0) {
      if (f->v[field].kind != WIRE_ABSENT) {
        return -1; /* duplicate key: the proxy's codec refuses it too */
      }
      f->v[field] = v;
    }
    i = skip_ws(b, i, to);
    if (i >= to) {
      return -1;
    }
    if (b[i] == '}') {
      return skip_ws(b, i + 1, to) == to ? 0 : -1;
    }
    if (b[i] != ',') {
      return -1;
    }
    i = skip_ws(b, i + 1, to);
  }
  return -1;
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static long read_u4(const uint8_t *s, size_t i, size_t len) {
  if (i + 4 > len) {
    return -1;
  }
  long v = 0;
  for (size_t k = i; k < i + 4; k++) {
    int h = hex_value(s[k]);
    if (h < 0) {
      return -1;
    }
    v = v * 16 + h;
  }
  return v;
}

static size_t put_utf8(uint8_t *out, unsigned long cp) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

long wire_json_decode(const uint8_t *s, size_t len, uint8_t *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (o + 4 > cap) {
      return -1;
    }
    uint8_t c = s[i];
    if (c < 0x20) {
      return -1;
    }
    if (c != '\\') {
      out[o++] = c;
      continue;
    }
    if (++i >= len) {
      return -1;
    }
    switch (s[i]) {
      case '"': out[o++] = '"'; break;
      case '\\': out[o++] = '\\'; break;
      case '/': out[o++] = '/'; break;
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'n': out[o++] = '\n'; break;
      case 'r': out[o++] = '\r'; break;
      case 't': out[o++] = '\t'; break;
      case 'u': {
        long u = read_u4(s, i + 1, len);
        if (u < 0) {
          return -1;
        }
        i += 4;
        unsigned long cp = (unsigned long)u;
        if (u >= 0xD800 && u <= 0xDBFF && i + 2 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
          long low = read_u4(s, i + 3, len);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + (((unsigned long)u - 0xD800) << 10) + ((unsigned long)low - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          out[o++] = '?'; /* a lone surrogate, as Java's UTF-8 encoder replaces it */
        } else {
          o += put_utf8(out + o, cp);
        }
        break;
      }
      default: return -1;
    }
  }
  return (long)o;
}

int wire_string_equals(const struct wire_value *v, const void *expected, size_t expected_len) {
  if (v->kind != WIRE_STRING) {
    return 0;
  }
  if (!v->escapes) {
    return v->len == expected_len && memcmp(v->start, expected, expected_len) == 0;
  }
  uint8_t decoded[WIRE_MAX_OBJECT];
  long n = wire_json_decode(v->start, v->len, decoded, sizeof(decoded));
  return n == (long)expected_len && memcmp(decoded, expected, expected_len) == 0;
}

char wire_type(const struct wire_value *v) {
  if (v->kind == WIRE_SCALAR || (v->kind == WIRE_STRING && !v->escapes)) {
    return v->len == 1 && v->start[0] >= '0' && v->start[0] <= '9' ? (char)v->start[0] : 0;
  }
  if (v->kind == WIRE_STRING) {
    uint8_t decoded[8];
    long n = wire_json_decode(v->start, v->len, decoded, sizeof(decoded));
    return n == 1 && decoded[0] >= '0' && decoded[0] <= '9' ? (char)decoded[0] : 0;
  }
  return 0;
}

/* --- The load generator's check of one reply ------------------------------------------------ */

enum wire_verdict wire_verify_reply(const uint8_t *reply, size_t len, const char *srcid,
                                    size_t srcid_len, const char hex[WIRE_SHA1_HEX], char *code,
                                    size_t code_cap) {
  struct wire_fields f;
  if (wire_parse_fields(reply, len, &f) != 0) {
    return WIRE_WRONG;
  }
  char type = wire_type(&f.v[WF_TYPE]);
  if (type == '2') {
    return wire_string_equals(&f.v[WF_DESTID], srcid, srcid_len) &&
                   wire_string_equals(&f.v[WF_PAYLOAD], hex, WIRE_SHA1_HEX)
               ? WIRE_OK
               : WIRE_WRONG;
  }
  if (type != '3') {
    return WIRE_WRONG;
  }
  const struct wire_value *c = &f.v[WF_CODE];
  long n = -1;
  if (c->kind == WIRE_STRING && code_cap > 1) {
    uint8_t decoded[WIRE_MAX_OBJECT];
    n = wire_json_decode(c->start, c->len, decoded, sizeof(decoded));
    if (n >= 0) {
      if ((size_t)n >= code_cap) {
        n = (long)code_cap - 1;
      }
      memcpy(code, decoded, (size_t)n);
      code[n] = 0;
    }
  }
  if (n <= 0 && code_cap > 1) {
    code[0] = '?';
    code[1] = 0;
  }
  return WIRE_ERROR;
}

/* --- The backend's answer to one frame ------------------------------------------------------ */

static size_t put(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  memcpy(out, s, n);
  return n;
}

size_t wire_put_json_string(uint8_t *out, const char *s, size_t len) {
  static const char digits[] = "0123456789abcdef";
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < len; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = c;
    } else if (c < 0x20) {
      o += put(out + o, "\\u00");
      out[o++] = (uint8_t)digits[c >> 4];
      out[o++] = (uint8_t)digits[c & 15];
    } else {
      out[o++] = c;
    }
  }
  out[o++] = '"';
  return o;
}

/* The request's srcid as it was written (a string with its quotes, or a number), or null. */
static size_t put_destid(uint8_t *out, const struct wire_value *srcid) {
  if (srcid->kind == WIRE_STRING) {
    out[0] = '"';
    memcpy(out + 1, srcid->start, srcid->len);
    out[srcid->len + 1] = '"';
    return srcid->len + 2;
  }
  if (srcid->kind == WIRE_SCALAR) {
    memcpy(out, srcid->start, srcid->len);
    return srcid->len;
  }
  return put(out, "null");
}

static size_t put_error(uint8_t *out, const struct wire_value *srcid, const char *code,
                        const char *message) {
  size_t o = put(out, "{\"type\": \"3\", \"destid\": ");
  o += put_destid(out + o, srcid);
  o += put(out + o, ", \"code\": ");
  o += wire_put_json_string(out + o, code, strlen(code));
  o += put(out + o, ", \"message\": ");
  o += wire_put_json_string(out + o, message, strlen(message));
  out[o++] = '}';
  return o;
}

size_t wire_answer(const uint8_t *frame, size_t len, const char *server_id, uint8_t *out,
                   uint8_t *scratch) {
  struct wire_fields f;
  static const struct wire_value none = {0};
  if (wire_parse_fields(frame, len, &f) != 0) {
    return put_error(out, &none, "malformed_json", "malformed JSON");
  }
  const struct wire_value *srcid = &f.v[WF_SRCID];
  if (srcid->kind == WIRE_NESTED) {
    return put_error(out, &none, "invalid_field", "field \"srcid\" must be a string or a number");
  }
  const struct wire_value *type = &f.v[WF_TYPE];
  if (type->kind == WIRE_ABSENT) {
    return put_error(out, srcid, "missing_field", "missing field \"type\"");
  }
  if (wire_type(type) != '0') {
    return put_error(out, srcid, "unsupported_type",
                     "this is a backend server; send type \"0\" requests");
  }
  if (srcid->kind == WIRE_ABSENT) {
    return put_error(out, srcid, "missing_field", "missing field \"srcid\"");
  }
  const struct wire_value *payload = &f.v[WF_PAYLOAD];
  if (payload->kind == WIRE_ABSENT) {
    return put_error(out, srcid, "missing_field", "missing field \"payload\"");
  }
  if (payload->kind != WIRE_STRING) {
    return put_error(out, srcid, "invalid_field", "field \"payload\" must be a string");
  }
  const uint8_t *bytes = payload->start;
  size_t n = payload->len;
  if (payload->escapes) {
    long decoded = wire_json_decode(payload->start, payload->len, scratch, WIRE_MAX_OBJECT);
    if (decoded < 0) {
      return put_error(out, srcid, "malformed_json", "malformed JSON: an invalid string escape");
    }
    bytes = scratch;
    n = (size_t)decoded;
  }
  char hex[WIRE_SHA1_HEX];
  wire_sha1_hex(bytes, n, hex);
  size_t o = put(out, "{\"type\": \"2\", \"srcid\": ");
  o += wire_put_json_string(out + o, server_id, strlen(server_id));
  o += put(out + o, ", \"destid\": ");
  o += put_destid(out + o, srcid);
  o += put(out + o, ", \"payloadsize\": 40, \"payload\": \"");
  memcpy(out + o, hex, WIRE_SHA1_HEX);
  o += WIRE_SHA1_HEX;
  o += put(out + o, "\"}");
  return o;
}

size_t wire_answer_garbage(uint8_t *out) {
  static const struct wire_value none = {0};
  return put_error(out, &none, "not_json", "bytes outside any JSON object");
}

size_t wire_answer_too_large(uint8_t *out) {
  static const struct wire_value none = {0};
  return put_error(out, &none, "packet_too_large", "a packet larger than 65536 bytes");
}
