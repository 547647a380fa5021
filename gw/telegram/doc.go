// Package telegram is PROTOCOL.md, version 1, declared with gw/layout: the
// header, every TYPE's body as a Go struct with Decode and Append, the
// result codes, a framing Reader, and the checks that need nothing but the
// telegram, each returning its PROTOCOL.md result code.
//
// Every telegram (all fields part of the format):
//
//	+------+------+----------+--------+------------------------+
//	| LEN  | TYPE | SEQ      | RESULT | body (LEN-16 bytes)    |
//	| N4   | N4   | N8       | N4     | by TYPE, see layouts.go|
//	+------+------+----------+--------+------------------------+
//	0      4      8          16       20
//
// LEN counts the bytes after itself: 16..9999. The bodies are drawn field by
// field in docs/LAYOUTS.md, generated from the declarations in layouts.go.
//
// Decisions where PROTOCOL.md is silent (also in docs/LAYOUTS.md):
//   - A response whose RESULT is not 0000 may carry its body (SUBMIT_RESP
//     with MSG_KEY and zero GW_ID; MULTI_SUBMIT_RESP with one result per
//     destination) or none, when the request could not be decoded far
//     enough; decoders accept both.
//   - DEST is valid when it is 10 or 11 digits starting 01; CALLBACK when it
//     is 8 to 12 digits. A malformed CALLBACK is 1203, as a malformed DEST.
//   - A blank MSG_KEY is a field error (1003).
//   - RESERVE_TIME must be a real calendar time in 2000..2099, or zeros.
//   - A subject on an SMS is not an error (PROTOCOL.md says "spaces for
//     SMS"); it is checked against the subject limit and otherwise ignored.
//
// Mapping of decoding errors (ResultOf): a malformed shape (LEN, TEXT_LEN
// disagreeing with LEN, bytes left over) is 1001; a non-digit in an N field
// or DEST_CNT out of 1..100 is 1003; K bytes that are not CP949 are 1204.
package telegram
