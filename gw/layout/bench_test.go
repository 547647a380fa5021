package layout

import "testing"

// BenchmarkDecode decodes a record of every feature (fixed, variable,
// repeated) into a reused Record and reads two fields.
func BenchmarkDecode(b *testing.B) {
	rec := build("ab", 42, MustEUCKR("한글"), MustEUCKR("안녕하세요 hello"), [][2]string{{"x", "12"}, {"y", "345"}, {"z", "6"}})
	var r Record
	ii := testL.MustIndex("ITEMS")
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if err := testL.Decode(rec, &r); err != nil {
			b.Fatal(err)
		}
		if len(r.Field(4).Bytes()) == 0 || len(r.Elem(ii, 2, 2).Bytes()) != 1 {
			b.Fatal("fields")
		}
	}
}

func BenchmarkValidEUCKR(b *testing.B) {
	t := MustEUCKR("입금 10,000원 잔액 1,000원 입금 10,000원 잔액 1,000원 입금 10,000원")
	b.ReportAllocs()
	b.SetBytes(int64(len(t)))
	for b.Loop() {
		if !ValidEUCKR(t) {
			b.Fatal("invalid")
		}
	}
}
