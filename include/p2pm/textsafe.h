/* textsafe.h - text that came from elsewhere (a peer's or a tracker's
 * reply, a song name, a tag, a file's metadata) made safe to show on a
 * terminal, in a log line or in an HTTP body.
 *
 * The text is decoded as UTF-8; every byte that does not belong to a
 * valid, shortest-form sequence and every code point that steers the
 * display rather than showing a character (C0 controls, DEL, C1 controls,
 * which include the one-byte CSI 0x9B once decoded, and the bidirectional
 * embeddings, overrides and isolates) becomes TEXTSAFE_MARK. What is left
 * prints as itself. Nothing here allocates, exits or prints. */
#ifndef P2PM_TEXTSAFE_H
#define P2PM_TEXTSAFE_H

#include <stddef.h>
#include <stdint.h>

/* what stands for each byte or code point taken out */
#define TEXTSAFE_MARK '?'

/* Is cp a control code: C0 (U+0000-U+001F), DEL or C1 (U+0080-U+009F)? */
int textsafe_is_control(uint32_t cp);

/* Is cp a bidirectional formatting control: an embedding or override
 * (U+202A-U+202E) or an isolate (U+2066-U+2069)? */
int textsafe_is_bidi(uint32_t cp);

/* Is cp invisible in a way that lets one name pass for another: a bidi
 * control or a zero-width character (U+200B-U+200F, U+2060, U+FEFF)?
 * Names and tags holding one are refused (proto_name_valid). */
int textsafe_is_invisible(uint32_t cp);

/* Is cp taken out by textsafe_copy (a control or a bidi control)? */
int textsafe_is_unsafe(uint32_t cp);

/* Writes the len bytes of s into out (outlen > 0 bytes), made safe as
 * described above, and a NUL. The result is never longer than the input:
 * an invalid byte becomes one mark, an unsafe code point one mark for all
 * its bytes. When out is too small the text is cut before a whole code
 * point. Returns the length written. A NUL in s is a C0 control. */
size_t textsafe_copy(char *out, size_t outlen, const char *s, size_t len);

/* textsafe_copy of a NUL-terminated text onto itself (it never grows).
 * Returns s. */
char *textsafe_fix(char *s);

/* Is the len bytes of s what textsafe_copy leaves alone: valid UTF-8 with
 * no unsafe code point? */
int textsafe_is_safe(const char *s, size_t len);

#endif
