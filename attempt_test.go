package nahook

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/matryer/is"
)

func TestStorable(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		limit     int
		mark, out string
	}{
		{"kept as it is", "héllo", 10, "", "héllo"},
		{"NUL", "a\x00b", 10, "", "a\uFFFDb"},
		{"invalid UTF-8", "a\xff\xfeb", 10, "", "a\uFFFDb"},
		{"a surrogate, which Postgres refuses", "a\xed\xa0\x80b", 10, "", "a\uFFFDb"},
		{"cut before a character, not through it", strings.Repeat("a", 4095) + "é", 4096, "", strings.Repeat("a", 4095)},
		{"cut at the limit", strings.Repeat("a", 5000), 4096, "", strings.Repeat("a", 4096)},
		{"marked where cut", strings.Repeat("a", 2000), 1024, "…", strings.Repeat("a", 1021) + "…"},
		{"marked, before a character", strings.Repeat("a", 1020) + "ééé", 1024, "…", strings.Repeat("a", 1020) + "…"},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			got := storable(c.in, c.limit, c.mark)
			is.Equal(got, c.out)
			is.True(utf8.ValidString(got))
			is.True(len(got) <= c.limit)
		})
	}
}

func FuzzStorable(f *testing.F) {
	f.Add([]byte("a\x00\xff\xed\xa0\x80é"), 3)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit = 3 + int(uint(limit)%2000)
		got := storable(string(in), limit, "…")
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 || len(got) > limit {
			t.Fatalf("storable(%q, %d) = %q", in, limit, got)
		}
		if utf8.Valid(in) && !strings.ContainsRune(string(in), 0) && len(in) <= limit && got != string(in) {
			t.Fatalf("storable changed %q, which was storable", in)
		}
	})
}
