package storecmd

import (
	"reflect"
	"strings"
	"testing"
)

func TestEachLine(t *testing.T) {
	const max = 8
	type line struct {
		text    string
		tooLong bool
	}
	tests := []struct {
		name, in string
		want     []line
	}{
		{"empty input", "", nil},
		{"lines", "a\nbb\n", []line{{"a", false}, {"bb", false}}},
		{"no final newline", "a\nbb", []line{{"a", false}, {"bb", false}}},
		{"crlf", "a\r\nbb\r\n", []line{{"a", false}, {"bb", false}}},
		{"empty line", "\n\na\n", []line{{"", false}, {"", false}, {"a", false}}},
		{"exactly max", "12345678\n", []line{{"12345678", false}}},
		{"exactly max with crlf", "12345678\r\n", []line{{"12345678", false}}},
		{"max+1", "123456789\nok\n", []line{{"123456789", true}, {"ok", false}}},
		{"far too long", strings.Repeat("x", 200000) + "\nok", []line{{"xxxxxxxx", true}, {"ok", false}}},
		{"far too long at the end", "ok\n" + strings.Repeat("x", 200000), []line{{"ok", false}, {"xxxxxxxx", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []line
			err := eachLine(strings.NewReader(tt.in), max, func(b []byte, tooLong bool) error {
				got = append(got, line{string(b), tooLong})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
