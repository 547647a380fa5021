package telegram

import (
	"strconv"

	"github.com/m1gw/m1/gw/layout"
)

// Header is a telegram's header.
type Header struct {
	Len    int // LEN: bytes after the LEN field
	Type   Type
	Seq    uint32
	Result Code
}

// ParseHeader decodes the header of frame, a whole telegram (LEN
// included, as Reader.Next returns it), and returns the body. A LEN that
// disagrees with the frame's length is a framing error; a non-digit in TYPE,
// SEQ or RESULT a field error (the header fields that could be read are
// filled all the same, so a response can echo the SEQ when it is readable).
func ParseHeader(frame []byte) (Header, []byte, error) {
	var h Header
	if len(frame) < HeaderLen {
		return h, nil, &layout.Error{Layout: "HEADER", Kind: layout.Framing, Off: len(frame), Reason: "telegram shorter than its 20-byte header"}
	}
	var err error
	for _, c := range frame[:HeaderLen] {
		if c < '0' || c > '9' {
			// The slow path names the field.
			var r layout.Record
			_, err = HeaderLayout.DecodePrefix(frame[:HeaderLen], &r)
			break
		}
	}
	h.Len = atoiDigits(frame[0:4])
	h.Type = Type(atoiDigits(frame[4:8]))
	h.Seq = uint32(atoiDigits(frame[8:16]))
	h.Result = Code(atoiDigits(frame[16:20]))
	if err != nil {
		if layout.FieldOf(err) == "LEN" {
			err.(*layout.Error).Kind = layout.Framing
		}
		return h, nil, err
	}
	if h.Len < MinLEN || h.Len > MaxLEN || h.Len != len(frame)-LenLen {
		return h, nil, &layout.Error{Layout: "HEADER", Field: "LEN", Kind: layout.Framing, Reason: "LEN " + strconv.Itoa(h.Len) + " for a telegram of " + strconv.Itoa(len(frame)) + " bytes"}
	}
	return h, frame[HeaderLen:], nil
}

// atoiDigits parses a field of digits; 0 when it holds anything else, so
// that a bad header still yields what could be read of it.
func atoiDigits(b []byte) int {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int(c-'0')
	}
	return v
}

// Begin appends a header with a LEN to be fixed by Finish, and returns the
// buffer and the offset of the telegram in it.
func Begin(dst []byte, t Type, seq uint32, result Code) ([]byte, int) {
	start := len(dst)
	dst = append(dst, "0000"...)
	dst = layout.AppendN(dst, uint64(t), 4)
	dst = layout.AppendN(dst, uint64(seq), 8)
	dst = layout.AppendN(dst, uint64(result), 4)
	return dst, start
}

// Finish writes the LEN of the telegram started at start. A body that
// would make LEN exceed 9999 is a programming error the encoders prevent
// (MULTI_SUBMIT with at most 100 destinations and a text of at most 2000
// bytes is 5,725 bytes).
func Finish(dst []byte, start int) []byte {
	n := len(dst) - start - LenLen
	layout.AppendN(dst[start:start], uint64(n), 4)
	return dst
}

// AppendEmpty appends a telegram without a body (BIND_RESP, LINK,
// LINK_RESP, UNBIND, UNBIND_RESP; and any response whose RESULT says the
// request failed before a body could be built).
func AppendEmpty(dst []byte, t Type, seq uint32, result Code) []byte {
	dst, start := Begin(dst, t, seq, result)
	return Finish(dst, start)
}

// AppendFrame appends a telegram with a ready body.
func AppendFrame(dst []byte, t Type, seq uint32, result Code, body []byte) []byte {
	dst, start := Begin(dst, t, seq, result)
	dst = append(dst, body...)
	return Finish(dst, start)
}
