// Package strictjson parses JSON strictly and writes its canonical encoding,
// the byte form that hms signs.
//
// Strict means RFC 8259 with no leniency: a duplicate object key anywhere,
// invalid UTF-8 (raw, or a lone surrogate written as \uXXXX), a control
// character inside a string, trailing data, leading zeros, NaN or Infinity
// are all errors. Such input is rejected, never repaired, because two parsers
// that repair it differently disagree about what was signed (duplicate keys
// are the classic signature-confusion attack).
//
// The canonical encoding of a value (documented in docs/message-format.md):
//
//   - no whitespace outside strings;
//   - object members sorted by key, comparing the keys' UTF-8 bytes (which is
//     Unicode code point order);
//   - strings escaped one way only: \" and \\, the control characters
//     U+0008, U+0009, U+000A, U+000C, U+000D as \b \t \n \f \r, the other
//     controls below U+0020 as \u00XX with lower-case hex; every other
//     character, including non-ASCII, as its raw UTF-8 bytes;
//   - numbers exactly as their literal text in the input (so 1.0 and 1 are
//     different, and a 64-bit or longer integer is never rounded);
//   - true, false, null as themselves.
//
// A Parser reuses its buffers between calls and allocates nothing in the
// steady state; it is not safe for concurrent use.
//
// # Conventions
//
// Every hms package that reads JSON-like input and reports where it is wrong
// (this one, and the JSON↔BSON mapping of the store) follows these rules, so
// that a user sees one style of message whichever tool refused the line:
//
// Offsets. An offset is a 0-based count of bytes (not characters, not runes)
// from the start of the input handed to the call: the line, or for
// AppendCanonicalNested the value itself, never an enclosing document the
// parser did not see. It points at the first byte that makes the input
// wrong: the unexpected byte, the bad escape's backslash, the invalid UTF-8
// byte, the '[' or '{' that opens one level too many, the first byte after
// a complete value, the first digit of a number with a leading zero; when
// the input ends too early it is the input's length (an escape cut short is
// located by its backslash). A duplicate key is located by the offset of
// the '{' of the object that holds it.
//
// Depth. MaxDepth (512) arrays and objects may be open at once: 512 nested
// '[' are accepted, 513 are not; scalars add no depth. A value that will be
// placed inside another document counts the levels around it: the data of
// an envelope is a member of the envelope object, so it may nest 511 levels
// (AppendCanonicalNested with depth 1), and a producer checks that limit
// before it writes, so that what it writes can always be read back.
//
// Wording. A syntax error reads "invalid JSON at offset N: WHAT", where WHAT
// is lower-case with no final period and says what was found and what was
// wanted: "unexpected 'x', want a value", "unexpected end of input, want
// ':' after object key", "want a JSON object, found an array", "invalid
// UTF-8 in string", "lone surrogate in \u escape (not valid Unicode)",
// "nesting too deep". A found byte is shown in Go's quoted form ('x',
// '\x00') when it is ASCII and as "byte 0xff" when it is not (it is not a
// character of its own). A repeated key reads "invalid JSON: duplicate key
// "k" in the object at offset N" (the key in Go's quoted form) and matches
// errors.Is(err, ErrDuplicateKey). Errors never name a command-line flag or
// a line number: callers add "line N: " and their own context.
//
// Files: parse.go (the value grammar and canonical output), object.go
// (Parser.Object, the top level of an envelope), strings.go (string
// decoding and UTF-8 checks), number.go (the number grammar), encode.go
// (writing canonical strings, splitting canonical arrays), errors.go.
package strictjson

// MaxDepth is how many arrays and objects may be open at once (see the
// package documentation).
const MaxDepth = 512

// Kind is the type of a JSON value.
type Kind uint8

const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "array", "object"}

func (k Kind) String() string { return kindNames[k] }
