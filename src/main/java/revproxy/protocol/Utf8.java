package revproxy.protocol;

/**
 * Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
 * Jackson's byte parser checks only the shape of continuation bytes, so an overlong {@code C0 80}
 * would reach a payload as U+0000 where a raw NUL byte is refused.
 */
final class Utf8 {

  private Utf8() {}

  static boolean isValid(byte[] bytes) {
    int i = 0;
    int n = bytes.length;
    while (i < n) {
      int b = bytes[i] & 0xFF;
      if (b < 0x80) {
        i++;
        continue;
      }
      int length;
      int min2 = 0x80;
      int max2 = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        length = 2;
      } else if (b >= 0xE0 && b <= 0xEF) {
        length = 3;
        if (b == 0xE0) {
          min2 = 0xA0; // overlong below U+0800
        } else if (b == 0xED) {
          max2 = 0x9F; // U+D800..U+DFFF are surrogates
        }
      } else if (b >= 0xF0 && b <= 0xF4) {
        length = 4;
        if (b == 0xF0) {
          min2 = 0x90; // overlong below U+10000
        } else if (b == 0xF4) {
          max2 = 0x8F; // above U+10FFFF
        }
      } else {
        return false; // 0x80..0xC1 (continuation or overlong lead) and 0xF5..0xFF
      }
      if (i + length > n) {
        return false;
      }
      int second = bytes[i + 1] & 0xFF;
      if (second < min2 || second > max2) {
        return false;
      }
      for (int k = 2; k < length; k++) {
        int next = bytes[i + k] & 0xFF;
        if (next < 0x80 || next > 0xBF) {
          return false;
        }
      }
      i += length;
    }
    return true;
  }
}
