// Package jsonbson maps JSON to BSON and back exactly: every JSON value read
// is stored so that it comes back as the same JSON value, integers beyond 64
// bits included, and keys that could be operators or paths ("$set", "a.b")
// are refused. It is the document format of hms-store.
//
// A JSON value is stored as:
//
//	object            embedded document (0x03), keys in input order
//	array             array (0x04)
//	string            string (0x02)
//	true, false       boolean (0x08)
//	null              null (0x0A)
//	integer literal   int32 (0x10) if it fits, else int64 (0x12) if it fits,
//	                  else a big number (below)
//	other number      double (0x01), the nearest one to the literal, when
//	(has . or e/E)    the literal is within the double range; else a big
//	                  number (1e400 would become +Inf, 1e-400 zero)
//
// A big number is a binary value (0x05) of the user-defined subtype 0x80
// whose bytes are the JSON literal itself, e.g. 18446744073709551616.
// It is exact on every server (FerretDB has no Decimal128, and Decimal128
// holds only 34 digits), never a float; equality matching works on the exact
// literal, ordering and arithmetic do not.
//
// AppendJSON maps back: int32 and int64 as integers, doubles always with a
// '.' or an exponent (so 2.0 stays a double when stored again), big numbers
// as their literal. Values no JSON input produces (ObjectId, dates, Decimal128
// NaN, ...) come out as MongoDB Extended JSON ({"$oid": ...}). Text that is
// not valid UTF-8 (which only other writers can store) comes out with U+FFFD
// in place of each bad byte, and OutputOptions.OnInvalidUTF8 is told where.
//
// The JSON read is RFC 8259 without leniency, as package strictjson reads
// it, and errors are reported the same way: a *strictjson.SyntaxError with
// the byte offset (counted from 0) and strictjson's wording, a
// *strictjson.DuplicateKeyError for a key repeated in one object, and, for
// a key this mapping refuses, a *KeyError naming its path. Nesting is
// limited the way strictjson limits it, to MaxDepth objects and arrays.
package jsonbson

import "fmt"

// BigNumberSubtype is the BSON binary subtype of big numbers.
const BigNumberSubtype = 0x80

// MaxDepth is how deeply objects and arrays may nest, the outermost object
// included: MongoDB's limit for documents.
const MaxDepth = 100

// ParseMode says which keys ParseJSON accepts.
type ParseMode int

const (
	// Strict refuses keys that start with '$' or contain '.' (operator
	// and path injection) anywhere: documents are data.
	Strict ParseMode = iota
	// Operators accepts '$' and '.' in keys, for filters and sort documents
	// written by the user, and reads {"$oid": "<hex>"} as an ObjectId. It
	// refuses the operators that run code on the server ($where, $function,
	// $accumulator) at any depth.
	Operators
)

// KeyError is a key that ParseJSON refuses.
type KeyError struct {
	Path string // where, e.g. .a.b[2]
	Key  string
	Msg  string
}

func (e *KeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("key %q %s", e.Key, e.Msg)
	}
	return fmt.Sprintf("key %q in %s %s", e.Key, e.Path, e.Msg)
}

// serverCode are the operators that make the server run code the query
// carries (JavaScript): no filter of hms-store needs them, and a filter
// passed on from somewhere else must not carry them.
var serverCode = map[string]bool{"$where": true, "$function": true, "$accumulator": true}
