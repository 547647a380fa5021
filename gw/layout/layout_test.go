package layout

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var testL = MustNew("TEST",
	Alpha("KEY", 5, "key"),
	Num("NUM", 4, "number"),
	Korean("SUBJ", 6, "subject"),
	Num("TLEN", 3, "text length"),
	VarK("TEXT", "TLEN", 0, 50, "text"),
	Num("CNT", 2, "count"),
	Repeat("ITEMS", "CNT", 1, 5, "items",
		Alpha("ID", 3, "id"),
		Num("L", 1, "len"),
		VarAN("V", "L", 1, 10, "value, L+1 bytes"),
	),
)

func build(key string, num uint64, subj, text []byte, items [][2]string) []byte {
	var b []byte
	b = AppendAN(b, key, 5)
	b = AppendN(b, num, 4)
	b = AppendKBytes(b, subj, 6)
	b = AppendN(b, uint64(len(text)), 3)
	b = append(b, text...)
	b = AppendN(b, uint64(len(items)), 2)
	for _, it := range items {
		b = AppendAN(b, it[0], 3)
		b = AppendN(b, uint64(len(it[1])-1), 1)
		b = append(b, it[1]...)
	}
	return b
}

func TestDecodeRoundTrip(t *testing.T) {
	subj := MustEUCKR("한글")
	text := MustEUCKR("안녕 hello ")
	b := build("ab", 42, subj, text, [][2]string{{"x", "12"}, {"yz", "abcde"}})
	var r Record
	if err := testL.Decode(b, &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Get("KEY").String(); got != "ab" {
		t.Errorf("KEY %q", got)
	}
	if got := r.Get("NUM").Int(); got != 42 {
		t.Errorf("NUM %d", got)
	}
	if got := r.Get("SUBJ").Bytes(); !bytes.Equal(got, subj) {
		t.Errorf("SUBJ %q", got)
	}
	if got := r.Get("TEXT").Bytes(); !bytes.Equal(got, text) {
		t.Errorf("TEXT %q (variable fields keep trailing spaces)", got)
	}
	items := testL.MustIndex("ITEMS")
	if r.Count(items) != 2 {
		t.Fatalf("count %d", r.Count(items))
	}
	if got := r.Elem(items, 1, 0).String(); got != "yz" {
		t.Errorf("ITEMS[1].ID %q", got)
	}
	if got := r.Elem(items, 1, 2).String(); got != "abcde" {
		t.Errorf("ITEMS[1].V %q", got)
	}
	if v := r.Elem(items, 2, 0); v.Raw() != nil {
		t.Errorf("element out of range gave %q", v.Raw())
	}
	if off, ok := testL.Offset(testL.MustIndex("TEXT")); !ok || off != 18 {
		t.Errorf("TEXT offset %d %v", off, ok)
	}
	if _, ok := testL.Offset(testL.MustIndex("CNT")); ok {
		t.Error("CNT follows a variable field: no fixed offset")
	}
}

func TestDecodeErrors(t *testing.T) {
	good := build("ab", 42, MustEUCKR("가"), []byte("hi"), [][2]string{{"x", "12"}})
	cases := []struct {
		name  string
		b     []byte
		kind  Kind
		field string
	}{
		{"short", good[:3], Framing, "KEY"},
		{"nondigit", append(append([]byte{}, good[:5]...), append([]byte("4x42"), good[9:]...)...), FieldErr, "NUM"},
		{"badK", func() []byte { b := bytes.Clone(good); b[9] = 0xFF; return b }(), Encoding, "SUBJ"},
		{"lenTooBig", func() []byte { b := bytes.Clone(good); copy(b[15:], "099"); return b }(), FieldErr, "TEXT"},
		{"lenPastEnd", func() []byte { b := bytes.Clone(good); copy(b[15:], "040"); return b }(), Framing, "TEXT"},
		{"count0", func() []byte { b := bytes.Clone(good); copy(b[20:], "00"); return b }(), FieldErr, "ITEMS"},
		{"countPastEnd", func() []byte { b := bytes.Clone(good); copy(b[20:], "05"); return b }(), Framing, "ITEMS"},
		{"leftover", append(bytes.Clone(good), 'x'), Framing, ""},
		{"elemField", func() []byte { b := bytes.Clone(good); b[25] = 'q'; return b }(), FieldErr, "ITEMS[0].L"},
	}
	for _, c := range cases {
		var r Record
		err := testL.Decode(c.b, &r)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: err %v, want *Error", c.name, err)
			continue
		}
		if e.Kind != c.kind || e.Field != c.field {
			t.Errorf("%s: got kind %v field %q (%v), want %v %q", c.name, e.Kind, e.Field, err, c.kind, c.field)
		}
	}
}

func TestBadDeclarations(t *testing.T) {
	bad := [][]Field{
		{Alpha("A", 1, ""), Alpha("A", 1, "")},
		{VarAN("T", "L", 0, 10, ""), Num("L", 2, "")},
		{Alpha("L", 2, ""), VarAN("T", "L", 0, 10, "")},
		{Num("C", 1, ""), Repeat("B", "C", 0, 2, "", Num("D", 1, ""), Repeat("E", "D", 0, 1, "", Num("X", 1, "")))},
		{Num("C", 1, ""), Repeat("B", "C", 3, 2, "", Num("D", 1, ""))},
		{Num("L", 1, ""), VarK("T", "L", 0, 0, "")},
	}
	for i, fs := range bad {
		if _, err := New("BAD", fs...); err == nil {
			t.Errorf("declaration %d accepted", i)
		}
	}
}

func TestEUCKR(t *testing.T) {
	b, err := ToEUCKR("가나다 abc")
	if err != nil || len(b) != 10 {
		t.Fatalf("ToEUCKR: %q %v", b, err)
	}
	if !ValidEUCKR(b) {
		t.Error("valid text reported invalid")
	}
	s, err := ToUTF8(b)
	if err != nil || s != "가나다 abc" {
		t.Errorf("ToUTF8 %q %v", s, err)
	}
	// CP949 extension (a syllable outside KS X 1001): 똠 is 0x8C 0x63.
	ext, err := ToEUCKR("똠")
	if err != nil || !ValidEUCKR(ext) || ext[1] >= 0x80 {
		t.Errorf("CP949 extension %x %v", ext, err)
	}
	if _, err := ToEUCKR("emoji 😀"); !errors.Is(err, ErrNotEUCKR) {
		t.Errorf("emoji: %v", err)
	}
	for _, bad := range [][]byte{{0x80}, {0xFF, 0xA1}, {0xB0}, {0xB0, 0x20}, {0xC9, 0xA1}} {
		if ValidEUCKR(bad) {
			t.Errorf("%x reported valid", bad)
		}
		if _, err := ToUTF8(bad); !errors.Is(err, ErrNotEUCKR) {
			t.Errorf("ToUTF8(%x): %v", bad, err)
		}
	}
	// Cut never splits a character.
	for n := 0; n <= len(b)+1; n++ {
		c := CutEUCKR(b, n)
		if len(c) > n || !ValidEUCKR(c) {
			t.Errorf("cut %d: %x", n, c)
		}
		if cs := CutEUCKRString(string(b), n); cs != string(c) {
			t.Errorf("cut string %d: %x vs %x", n, cs, c)
		}
	}
	if got := len(CutEUCKR(b, 5)); got != 4 {
		t.Errorf("cut 5 of 가나다: %d bytes", got)
	}
	var enc []byte
	enc = AppendK(enc, string(b), 5)
	if !bytes.Equal(enc, append(b[:4:4], ' ')) {
		t.Errorf("AppendK cut %q", enc)
	}
}

func TestAppend(t *testing.T) {
	var b []byte
	b = AppendN(b, 12345, 3)
	b = AppendNDigits(b, "77", 4)
	b = AppendNDigits(b, "123456", 3)
	b = AppendAN(b, "abcdef", 3)
	b = AppendAN(b, "a", 3)
	if string(b) != "3450077456abca  " {
		t.Errorf("%q", b)
	}
	long := AppendAN(nil, "", 200)
	if len(long) != 200 || strings.Trim(string(long), " ") != "" {
		t.Errorf("long pad %d", len(long))
	}
}

func TestMarkdown(t *testing.T) {
	md := testL.Markdown()
	for _, want := range []string{"| 18 | TLEN (≤ 50) | TEXT | K |", "| TEXT+0 | 2 | CNT | N |", "| +3 | 1 | ITEMS[i].L | N |", "| L+1 (≤ 10) | ITEMS[i].V |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestNoAllocDecode(t *testing.T) {
	b := build("ab", 42, MustEUCKR("가"), []byte("hi"), [][2]string{{"x", "12"}, {"y", "3"}})
	var r Record
	if err := testL.Decode(b, &r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := testL.Decode(b, &r); err != nil {
			t.Fatal(err)
		}
		_ = r.Get("TEXT").Bytes()
	})
	if allocs != 0 {
		t.Errorf("decode into a reused Record allocates %v times", allocs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(build("ab", 42, MustEUCKR("가"), []byte("hi"), [][2]string{{"x", "12"}}))
	f.Add(build("k", 0, nil, MustEUCKR("한글 텍스트"), [][2]string{{"a", "1"}, {"b", "22"}, {"c", "3333"}}))
	f.Add([]byte("00000000000000000099"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		err := testL.Decode(b, &r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind == 0 {
				t.Fatalf("error not typed: %v", err)
			}
			return
		}
		if cap(r.elems) > len(b) {
			t.Fatalf("element table %d for %d input bytes", cap(r.elems), len(b))
		}
		// Every accepted record re-encodes to the same bytes.
		var items [][2]string
		ii := testL.MustIndex("ITEMS")
		for k := 0; k < r.Count(ii); k++ {
			items = append(items, [2]string{string(r.Elem(ii, k, 0).Bytes()), string(r.Elem(ii, k, 2).Bytes())})
		}
		again := build(r.Get("KEY").String(), r.Get("NUM").Uint(), r.Get("SUBJ").Bytes(), r.Get("TEXT").Bytes(), items)
		if !bytes.Equal(TrimSpace(again[:5]), TrimSpace(b[:5])) || !ValidEUCKR(r.Get("TEXT").Bytes()) {
			t.Fatalf("re-encode differs: %q vs %q", again, b)
		}
	})
}

func TestValueIn(t *testing.T) {
	b := build("ab", 42, MustEUCKR("가"), []byte("hi "), [][2]string{{"x", "12"}})
	var r Record
	if err := testL.Decode(b, &r); err != nil {
		t.Fatal(err)
	}
	s := string(b)
	ii := testL.MustIndex("ITEMS")
	if got := r.Get("KEY").In(s); got != "ab" {
		t.Errorf("KEY %q", got)
	}
	if got := r.Get("TEXT").In(s); got != "hi " {
		t.Errorf("TEXT %q", got)
	}
	if got := r.Elem(ii, 0, 2).In(s); got != "12" {
		t.Errorf("ITEMS[0].V %q", got)
	}
}

func TestShapeBeforeContent(t *testing.T) {
	// A bad EUC-KR byte and a bad length: the length (framing) wins.
	b := build("ab", 42, MustEUCKR("가"), MustEUCKR("가나"), [][2]string{{"x", "12"}})
	b[9] = 0xFF // SUBJ not CP949
	copy(b[15:], "040")
	var r Record
	if err := testL.Decode(b, &r); KindOf(err) != Framing {
		t.Errorf("got %v, want a framing error", err)
	}
	// Content error inside a block names the block element.
	b = build("ab", 42, nil, nil, [][2]string{{"x", "12"}, {"y", "34"}})
	copy(b[5:], "12a4")
	if err := testL.Decode(b, &r); KindOf(err) != FieldErr || FieldOf(err) != "NUM" {
		t.Errorf("got %v", err)
	}
}

func TestFixed(t *testing.T) {
	b := build("ab", 42, MustEUCKR("가"), []byte("hi"), [][2]string{{"x", "12"}})
	s := "XX" + string(b)
	if got := testL.MustFixed("KEY").AN(s, 2); got != "ab" {
		t.Errorf("KEY %q", got)
	}
	if got := testL.MustFixed("NUM").Uint(s, 2); got != 42 {
		t.Errorf("NUM %d", got)
	}
	if got := testL.MustFixed("NUM").NonZero(s, 2); got != "0042" {
		t.Errorf("NUM %q", got)
	}
	if got := testL.MustFixed("TLEN").Raw(s, 2); got != "002" {
		t.Errorf("TLEN %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustFixed of a field after a variable one did not panic")
		}
	}()
	testL.MustFixed("CNT")
}
