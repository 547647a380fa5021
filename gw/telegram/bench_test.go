package telegram

import (
	"bytes"
	"testing"
)

func BenchmarkSubmitDecodeValidate(b *testing.B) {
	s := sampleSubmit()
	f := s.Append(nil, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		_, body, err := ParseHeader(f)
		if err != nil {
			b.Fatal(err)
		}
		m, err := DecodeSubmit(body)
		if err != nil {
			b.Fatal(err)
		}
		if c := m.Validate(DefaultLimits); c != OK {
			b.Fatal(c)
		}
	}
}

func BenchmarkSubmitAppend(b *testing.B) {
	s := sampleSubmit()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0], 1)
	}
}

func BenchmarkSubmitRespAppend(b *testing.B) {
	r := SubmitResp{MsgKey: "K0000000001", GWID: "17637700000000100001"}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.Append(buf[:0], 1, OK)
	}
}

// BenchmarkReaderNext splits a pipelined stream of 64 SUBMITs; the
// baseline is a bytes.Reader copy of the same stream, in the same run.
func BenchmarkReaderNext(b *testing.B) {
	s := sampleSubmit()
	var stream []byte
	for i := 0; i < 64; i++ {
		stream = s.Append(stream, uint32(i))
	}
	src := bytes.NewReader(stream)
	r := NewReader(src, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / 64))
	n := 0
	for b.Loop() {
		if n == 64 {
			src.Reset(stream)
			n = 0
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
		n++
	}
}
