// Package layout declares fixed-format records as data and decodes and
// encodes them: the layout model of the EAI product M1 replaces.
//
// A Layout is a list of fields. A field is one of
//
//   - N  (Num):    ASCII digits, right-aligned, zero-padded. A non-digit is a
//     field error.
//   - AN (Alpha):  left-aligned, right-padded with spaces (0x20). Trailing
//     spaces are not part of the value.
//   - K  (Korean): like AN, but the bytes are EUC-KR text (CP949 accepted).
//     Lengths are EUC-KR bytes. Bytes that are not valid CP949 are an
//     encoding error.
//
// and it has either a fixed length, or a variable length taken from an
// earlier N field plus a correction value (VarAN, VarK), or it is a block of
// fields repeated the number of times an earlier N field gives (Repeat):
//
//	... | TEXT_LEN N4 | TEXT K (TEXT_LEN+adj) | DEST_CNT N3 | DEST_CNT x (MSG_KEY AN20 | DEST AN16) |
//
// A length or count field must come before the field it governs, at the same
// level (inside the block for a field of a block). Blocks do not nest. A
// variable-length field is not trimmed: its length says exactly what it holds.
//
// Decoding (Layout.Decode) fills a Record the caller owns and may reuse: it
// records where each field lies in the input (spans) and checks every field,
// so it allocates nothing unless a repeated block needs more room than the
// Record already has. Before it grows anything it checks the count against the
// declared maximum and against the bytes actually there, so a hostile count
// cannot make it allocate beyond the input's length. Decoding never panics;
// every failure is an *Error naming the layout, the field, the offset and the
// kind (framing, field, encoding), which the protocol layers map onto their
// result codes.
//
// Hot records have a faster path still: Layout.MustFixed gives, from the
// declaration, the offset and length of every field that precedes the first
// variable-length one, and Fixed's methods read such a field straight out of
// the record (as a substring of one string of the whole record) once Decode
// has checked it. gw/telegram and gw/msg build their structs that way.
//
// Encoding appends fields in declared order (AppendN, AppendAN, AppendK and
// the Field methods of the same names) into a caller's buffer: no offsets are
// written by hand anywhere, and the offsets used by readers come from the
// declaration (Layout.Offset).
//
// EUC-KR helpers (ToEUCKR, ToUTF8, ValidEUCKR, CutEUCKR) go through
// golang.org/x/text/encoding/korean; validity is checked with a table built
// from that decoder, so it agrees with it exactly and costs one lookup a
// character.
package layout
