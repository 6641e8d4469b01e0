package strictjson

import "errors"

const hexDigits = "0123456789abcdef"

// AppendString appends s, which must be valid UTF-8, as a canonical JSON
// string.
func AppendString(dst []byte, s string) []byte { return appendString(dst, []byte(s)) }

func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// SplitArray calls fn with each element of canon, which must be the
// canonical encoding of an array (as AppendCanonical writes it).
func SplitArray(canon []byte, fn func(elem []byte) error) error {
	if len(canon) < 2 || canon[0] != '[' || canon[len(canon)-1] != ']' {
		return errors.New("not a canonical array")
	}
	body := canon[1 : len(canon)-1]
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				if err := fn(body[start:i]); err != nil {
					return err
				}
				start = i + 1
			}
		}
	}
	if len(body) > 0 {
		return fn(body[start:])
	}
	return nil
}
