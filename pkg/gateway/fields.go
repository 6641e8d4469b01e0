package gateway

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A checker validates one value from a message (or from the store) and
// returns it in its normal form: string, bool, float64, int64, or
// map[string]any of those. Normal forms make "did this field change?"
// a plain comparison, whatever the value's source (json.Number from a
// message, int32 or float64 from BSON).
type checker func(v any) (any, error)

// field describes one property of an object.
type field struct {
	name     string
	required bool
	check    checker
}

// schema is the list of fields of one target.
type schema struct {
	target Target
	fields []field
}

func (s *schema) field(name string) (field, bool) {
	for _, f := range s.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// Fields set by the gateway, never by a sender. They are accepted in a
// message (the book's clients send whole objects) and ignored.
const (
	fieldCreated  = "created"
	fieldModified = "modified"
	fieldOID      = "oid"
)

func gatewayField(name string) bool { return name == fieldCreated || name == fieldModified }

var addressFields = []field{
	{name: "street_address", required: true, check: singleLine},
	{name: "building_address", check: singleLine},
	{name: "city", required: true, check: singleLine},
	{name: "region", check: singleLine},
	{name: "postal_code", check: singleLine},
	{name: "country", check: singleLine},
}

var schemas = map[Target]*schema{
	Artisan: {target: Artisan, fields: []field{
		{name: fieldOID, required: true, check: oid},
		{name: "contact_name", required: true, check: singleLine},
		{name: "contact_email", required: true, check: email},
		{name: "address", required: true, check: object(addressFields)},
		{name: "company_name", check: singleLine},
		{name: "website", check: website},
		{name: "queue_id", check: queueID},
		{name: "signing_key", check: signingKey},
		{name: "is_active", check: boolean},
		{name: "is_deleted", check: boolean},
	}},
	Product: {target: Product, fields: []field{
		{name: fieldOID, required: true, check: oid},
		{name: "name", required: true, check: singleLine},
		{name: "summary", required: true, check: singleLineOf(MaxSummary)},
		{name: "description", check: multiLine},
		{name: "dimensions", check: singleLine},
		{name: "metadata", check: stringMap},
		{name: "shipping_weight", check: nonNegativeNumber},
		{name: "available", check: boolean},
		{name: "store_available", check: boolean},
		{name: "artisan_id", required: true, check: oid},
		{name: "is_active", check: boolean},
		{name: "is_deleted", check: boolean},
	}},
	Order: {target: Order, fields: append([]field{
		{name: fieldOID, required: true, check: oid},
		{name: "name", required: true, check: singleLine},
		{name: "items", required: true, check: quantities(true)},
		{name: "fulfilled_items", check: quantities(false)},
		{name: "is_active", check: boolean},
		{name: "is_deleted", check: boolean},
	}, addressFields...)},
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, float32, int, int32, int64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

func wrongType(v any, want string) error {
	return fmt.Errorf("is %s, want %s", typeName(v), want)
}

// Length limits of text fields, in characters (Unicode code points); see
// docs/gateway.md. They keep every object far below MongoDB's 16 MiB
// document limit and every field readable.
const (
	MaxText        = 256   // single-line text: names, address lines, company_name, dimensions
	MaxSummary     = 1000  // a product's summary
	MaxDescription = 20000 // a product's description (multi-line)
	MaxMetaKey     = 64    // a metadata key
	MaxMetaEntries = 100   // entries in a product's metadata
	MaxEmail       = 254   // contact_email (RFC 5321's limit on a path), in bytes: it is ASCII
	MaxWebsite     = 2000  // website
	MaxSigningKey  = 1024  // signing_key, in hex digits (512 bytes)
	MaxQuantity    = 1<<53 - 1
)

// singleLine is the book's text rule, at most MaxText characters.
var singleLine = singleLineOf(MaxText)

// singleLineOf is the book's text rule: non-empty, no line breaks, tabs or
// other control characters, and at most max characters.
func singleLineOf(max int) checker {
	return func(v any) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, wrongType(v, "single-line text")
		}
		if s == "" {
			return nil, fmt.Errorf("is empty")
		}
		if err := maxChars(s, max); err != nil {
			return nil, err
		}
		if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
			return nil, fmt.Errorf("contains the control character %q: single-line text only", s[i:i+1])
		}
		return s, nil
	}
}

// multiLine is free text of at most MaxDescription characters: line breaks
// and tabs allowed, other control characters (NUL, escape sequences) not.
func multiLine(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, wrongType(v, "text")
	}
	if err := maxChars(s, MaxDescription); err != nil {
		return nil, err
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}); i >= 0 {
		return nil, fmt.Errorf("contains the control character %q", s[i:i+1])
	}
	return s, nil
}

// maxChars refuses text longer than max characters.
func maxChars(s string, max int) error {
	if len(s) <= max {
		return nil // fewer bytes than the limit: fewer characters too
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("is %d characters long, more than the %d allowed", n, max)
	}
	return nil
}

// short quotes s for a rejection reason, cut to its first 64 characters:
// a reason quotes what was wrong, not a whole megabyte of it.
func short(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:max])) + "…"
}

func boolean(v any) (any, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, wrongType(v, "true or false")
	}
	return b, nil
}

// oid accepts a UUID in its text form (8-4-4-4-12 hex digits) and returns it
// in lower case, so one object never has two spellings of its _id.
func oid(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, wrongType(v, "a UUID")
	}
	if !isUUID(s) {
		return nil, fmt.Errorf("%s is not a UUID", short(s))
	}
	return strings.ToLower(s), nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// email accepts local@domain.tld: an ASCII local part of the usual
// characters without leading, trailing or doubled dots, and a domain of at
// least two DNS labels whose last is alphabetic.
func email(v any) (any, error) {
	if _, ok := v.(string); !ok {
		return nil, wrongType(v, "an e-mail address")
	}
	s, err := singleLineOf(MaxEmail)(v)
	if err != nil {
		return nil, err
	}
	addr := s.(string)
	bad := fmt.Errorf("%s is not an e-mail address (local@domain.tld)", short(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return nil, bad
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return nil, bad
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return nil, bad
		}
	}
	if !isDomain(domain, true) {
		return nil, bad
	}
	return addr, nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isDomain reports whether s is a DNS name of letters, digits and hyphens;
// with needTLD, it must have at least two labels and an alphabetic last one.
func isDomain(s string, needTLD bool) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	if needTLD {
		tld := labels[len(labels)-1]
		if len(labels) < 2 || len(tld) < 2 {
			return false
		}
		if strings.Trim(tld, "0123456789") == "" {
			return false // an IP address or a bare number, not a domain
		}
	}
	return true
}

// website accepts http(s)://host with an optional port, path, query and
// fragment; the host is a DNS name or an IP address, and no user:password.
func website(v any) (any, error) {
	if _, ok := v.(string); !ok {
		return nil, wrongType(v, "a web address (http(s)://host)")
	}
	s, err := singleLineOf(MaxWebsite)(v)
	if err != nil {
		return nil, err
	}
	raw := s.(string)
	bad := fmt.Errorf("%s is not a web address (http(s)://host)", short(raw))
	if strings.ContainsAny(raw, " \"<>\\^`{|}") {
		return nil, bad
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return nil, bad
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return nil, bad
	}
	host := u.Hostname()
	if host == "" || !(isDomain(host, false) || net.ParseIP(host) != nil) {
		return nil, bad
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad
		}
	}
	return raw, nil
}

// queueID is a RabbitMQ queue name: printable ASCII, at most 255 bytes (an
// AMQP short string).
func queueID(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, wrongType(v, "a queue name")
	}
	if s == "" || len(s) > 255 {
		return nil, fmt.Errorf("must be 1 to 255 characters long")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return nil, fmt.Errorf("must be printable ASCII")
		}
	}
	return s, nil
}

// signingKey is the hex text of at least 64 bytes (the book's
// os.urandom(64).hex(), 128 hex digits), at most MaxSigningKey digits.
func signingKey(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, wrongType(v, "hex text")
	}
	if len(s) > MaxSigningKey {
		return nil, fmt.Errorf("is %d characters long, more than the %d hex digits allowed", utf8.RuneCountInString(s), MaxSigningKey)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return nil, fmt.Errorf("is not hex text")
	}
	if len(s) < 128 {
		return nil, fmt.Errorf("is %d bytes, want at least 64 (128 hex digits)", len(s)/2)
	}
	return s, nil
}

// number returns v as a float64 when it is a finite number; out is set for
// a number too large for a float64 (1e400).
func number(v any) (f float64, ok, out bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, false, errors.Is(err, strconv.ErrRange)
		}
		return f, true, false
	case float64:
		return n, !math.IsInf(n, 0) && !math.IsNaN(n), false
	case int:
		return float64(n), true, false
	case int32:
		return float64(n), true, false
	case int64:
		return float64(n), true, false
	}
	return 0, false, false
}

// numberText shows a number as it was written (a message's json.Number) or
// in plain decimal notation (a stored one), never in a float's exponent
// form: 18446744073709551616, not 1.8446744073709552e+19.
func numberText(v any) string {
	switch n := v.(type) {
	case json.Number:
		if len(n) > 40 {
			return string(n[:40]) + "…"
		}
		return string(n)
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) {
			return big.NewFloat(n).Text('f', 0) // exactly, all its digits
		}
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func nonNegativeNumber(v any) (any, error) {
	f, ok, out := number(v)
	if out {
		return nil, fmt.Errorf("is %s, out of range", numberText(v))
	}
	if !ok {
		return nil, wrongType(v, "a number")
	}
	if f < 0 {
		return nil, fmt.Errorf("is %s, must be >= 0", numberText(v))
	}
	return f, nil
}

// quantity accepts a whole number from 0 to MaxQuantity (2^53-1, the
// largest that every JSON reader reads exactly) and returns it as an int64.
// A message's number is read from its text, exactly: 2.0 and 2e3 are whole,
// 9007199254740993 is out of range, not rounded.
func quantity(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return quantityOf(int64(n), v)
	case int32:
		return quantityOf(int64(n), v)
	case int64:
		return quantityOf(n, v)
	case json.Number:
		return quantityText(string(n))
	case float64:
		if n != math.Trunc(n) {
			return 0, fmt.Errorf("is %s, want a whole number", numberText(v))
		}
		if n < 0 || n > MaxQuantity {
			return quantityOf(int64(math.Copysign(MaxQuantity+1, n)), v)
		}
		return int64(n), nil
	}
	return 0, wrongType(v, "a whole number")
}

func quantityOf(i int64, v any) (int64, error) {
	switch {
	case i < 0:
		return 0, fmt.Errorf("is %s, must be >= 0", numberText(v))
	case i > MaxQuantity:
		return 0, fmt.Errorf("is %s, out of range (at most %d)", numberText(v), int64(MaxQuantity))
	}
	return i, nil
}

// quantityText reads a JSON number's text as a quantity, exactly.
func quantityText(s string) (int64, error) {
	digits, exp, neg, ok := decimal(s)
	if !ok {
		return 0, fmt.Errorf("is %s, want a whole number", short(s))
	}
	for exp < 0 && strings.HasSuffix(digits, "0") {
		digits, exp = digits[:len(digits)-1], exp+1
	}
	switch {
	case digits == "":
		return 0, nil // 0, 0.0, -0e5
	case exp < 0:
		return 0, fmt.Errorf("is %s, want a whole number", numberText(json.Number(s)))
	case neg:
		return 0, fmt.Errorf("is %s, must be >= 0", numberText(json.Number(s)))
	case len(digits)+exp > 16: // more than 16 digits: above 2^53 for sure
		return quantityOf(MaxQuantity+1, json.Number(s))
	}
	n, err := strconv.ParseInt(digits+strings.Repeat("0", exp), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("is %s, want a whole number", numberText(json.Number(s)))
	}
	return quantityOf(n, json.Number(s))
}

// decimal splits the JSON number s into its significant digits (no leading
// zeros; "" for zero) and a power of ten: "12.50e3" is ("1250", 1). An
// exponent beyond ±10^6 is clamped there: far out of every range that
// matters, and no number is ever expanded to it.
func decimal(s string) (digits string, exp int, neg, ok bool) {
	neg = strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, e, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		sign := 1
		if e != "" && (e[0] == '+' || e[0] == '-') {
			if e[0] == '-' {
				sign = -1
			}
			e = e[1:]
		}
		if e == "" || strings.Trim(e, "0123456789") != "" {
			return "", 0, false, false
		}
		e = strings.TrimLeft(e, "0")
		if len(e) > 7 {
			e = "1000000"
		}
		n, _ := strconv.Atoi("0" + e)
		exp = sign * n
	}
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return "", 0, false, false
	}
	digits = strings.TrimLeft(whole+frac, "0")
	return digits, exp - len(frac), neg, true
}

// quantities is a map from product oid to a quantity >= 0.
func quantities(nonEmpty bool) checker {
	return func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, wrongType(v, "an object of product oid to quantity")
		}
		if nonEmpty && len(m) == 0 {
			return nil, fmt.Errorf("is empty")
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			q := m[k]
			if !isUUID(k) {
				return nil, fmt.Errorf("key %s is not a product oid (a UUID)", short(k))
			}
			n, err := quantity(q)
			if err != nil {
				return nil, fmt.Errorf("%s %w", strings.ToLower(k), err)
			}
			k = strings.ToLower(k)
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("product %s appears twice", k)
			}
			out[k] = n
		}
		return out, nil
	}
}

// stringMap is the product's metadata: single-line text to single-line
// text. Keys are field names in MongoDB, so '.' and a leading '$' are out.
func stringMap(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, wrongType(v, "an object of text to text")
	}
	if len(m) > MaxMetaEntries {
		return nil, fmt.Errorf("has %d entries, more than the %d allowed", len(m), MaxMetaEntries)
	}
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		if _, err := singleLineOf(MaxMetaKey)(k); err != nil {
			return nil, fmt.Errorf("key %s %w", short(k), err)
		}
		if strings.HasPrefix(k, "$") || strings.Contains(k, ".") {
			return nil, fmt.Errorf("key %s may not start with '$' or contain '.'", short(k))
		}
		t, err := singleLine(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s %w", short(k), err)
		}
		out[k] = t
	}
	return out, nil
}

// object is a nested object with its own fields (the address); unknown keys
// are rejected and required ones must be there.
func object(fields []field) checker {
	return func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, wrongType(v, "an object")
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			x := m[k]
			f, known := findField(fields, k)
			if !known {
				return nil, fmt.Errorf("has the unknown field %s", short(k))
			}
			if x == nil {
				continue // an absent optional field
			}
			n, err := f.check(x)
			if err != nil {
				return nil, fmt.Errorf(".%s %w", k, err)
			}
			out[k] = n
		}
		for _, f := range fields {
			if _, ok := out[f.name]; f.required && !ok {
				return nil, fmt.Errorf(".%s is required", f.name)
			}
		}
		return out, nil
	}
}

func findField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}
