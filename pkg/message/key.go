package message

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KeyHeader starts every line of the key file format.
const KeyHeader = "hms-key-v1"

// MinSecretSize is the smallest secret a key may have, in bytes.
const MinSecretSize = 32

// Key is one HMAC-SHA256 key bound to an origin and, optionally, a subject.
type Key struct {
	KID     string // key id, carried in every envelope as "kid"
	Origin  string // the only origin this key may sign for
	Subject string // what the key speaks for within the origin (an artisan's oid), may be empty
	Secret  []byte // at least MinSecretSize bytes
}

// GenerateKey returns a key with a fresh 32-byte secret from crypto/rand.
func GenerateKey(kid, origin, subject string) (*Key, error) {
	k := &Key{KID: kid, Origin: origin, Subject: subject, Secret: make([]byte, 32)}
	rand.Read(k.Secret) // never fails (Go >= 1.24)
	if err := k.check(); err != nil {
		return nil, err
	}
	return k, nil
}

// MarshalText returns the key as one line of the key file format, without a
// newline:
//
//	hms-key-v1 kid=KID origin=ORIGIN [subject=SUBJECT] secret=BASE64URL
func (k *Key) MarshalText() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	b := []byte(KeyHeader + " kid=" + k.KID + " origin=" + k.Origin)
	if k.Subject != "" {
		b = append(b, " subject="+k.Subject...)
	}
	b = append(b, " secret="...)
	return base64.RawURLEncoding.AppendEncode(b, k.Secret), nil
}

// String describes the key without its secret.
func (k *Key) String() string {
	s := "kid=" + k.KID + " origin=" + k.Origin
	if k.Subject != "" {
		s += " subject=" + k.Subject
	}
	return s
}

func (k *Key) check() error {
	if !ValidKID(k.KID) {
		return fmt.Errorf("invalid kid %q: want 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit", k.KID)
	}
	if !ValidOrigin(k.Origin) {
		return fmt.Errorf("invalid origin %q: want [a-z][a-z0-9-]*, at most 64 bytes", k.Origin)
	}
	if k.Subject != "" && !ValidSubject(k.Subject) {
		return fmt.Errorf("invalid subject %q: want 1 to 128 of [A-Za-z0-9._:@-]", k.Subject)
	}
	if len(k.Secret) < MinSecretSize {
		return fmt.Errorf("key %s: secret is %d bytes, want at least %d", k.KID, len(k.Secret), MinSecretSize)
	}
	return nil
}

// ParseKey parses one line of the key file format.
func ParseKey(line []byte) (*Key, error) {
	fields := strings.Fields(string(line))
	if len(fields) == 0 || fields[0] != KeyHeader {
		return nil, fmt.Errorf("not an hms key: want a line starting with %q", KeyHeader)
	}
	k := &Key{}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		name, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("malformed key field %q: want name=value", f)
		}
		if seen[name] {
			return nil, fmt.Errorf("key field %q given twice", name)
		}
		seen[name] = true
		switch name {
		case "kid":
			k.KID = val
		case "origin":
			k.Origin = val
		case "subject":
			k.Subject = val
			if val == "" {
				return nil, errors.New("empty subject (leave the field out instead)")
			}
		case "secret":
			s, err := base64.RawURLEncoding.DecodeString(val)
			if err != nil {
				return nil, errors.New("secret is not unpadded base64url")
			}
			k.Secret = s
		default:
			return nil, fmt.Errorf("unknown key field %q", name)
		}
	}
	for _, need := range []string{"kid", "origin", "secret"} {
		if !seen[need] {
			return nil, fmt.Errorf("key has no %s", need)
		}
	}
	if err := k.check(); err != nil {
		return nil, err
	}
	return k, nil
}

// Keyring is a set of keys, looked up by kid. Several keys may share an
// origin (rotation: add the new key, later delete the old line to revoke it).
// A Keyring is safe for concurrent use once built.
type Keyring struct {
	keys  []*Key
	bykid map[string]*Key
}

// NewKeyring returns a keyring holding keys; kids must be unique.
func NewKeyring(keys ...*Key) (*Keyring, error) {
	kr := &Keyring{bykid: make(map[string]*Key, len(keys))}
	for _, k := range keys {
		if err := kr.add(k); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

func (kr *Keyring) add(k *Key) error {
	if err := k.check(); err != nil {
		return err
	}
	if _, dup := kr.bykid[k.KID]; dup {
		return fmt.Errorf("kid %q appears twice", k.KID)
	}
	kr.keys = append(kr.keys, k)
	kr.bykid[k.KID] = k
	return nil
}

// Lookup returns the key with the given kid.
func (kr *Keyring) Lookup(kid string) (*Key, bool) {
	k, ok := kr.bykid[kid]
	return k, ok
}

// Keys returns the keys in file order.
func (kr *Keyring) Keys() []*Key { return append([]*Key(nil), kr.keys...) }

// Len returns the number of keys.
func (kr *Keyring) Len() int { return len(kr.keys) }

// ReadKeyring reads one or more key lines (key files concatenated). Blank
// lines and lines starting with '#' are ignored. A kid given twice is an
// error, since it would make verification ambiguous.
func ReadKeyring(r io.Reader) (*Keyring, error) {
	kr := &Keyring{bykid: map[string]*Key{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, err := ParseKey(line)
		if err == nil {
			err = kr.add(k)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(kr.keys) == 0 {
		return nil, errors.New("no keys found")
	}
	return kr, nil
}

// LoadKeyring reads a keyring file; see ReadKeyring. It warns (see
// OnWarning) when the file is readable by group or others.
func LoadKeyring(path string, opts ...LoadOption) (*Keyring, error) {
	return loadKeys(path, "keyring", opts)
}

// loadKeys reads the keys in the file at path, warning about its mode;
// errors in its content name it as what.
func loadKeys(path, what string, opts []LoadOption) (*Keyring, error) {
	f, err := OpenKeyFile(path, opts...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kr, err := ReadKeyring(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return kr, nil
}

// LoadKey reads a file holding exactly one key. It warns (see OnWarning)
// when the file is readable by group or others.
func LoadKey(path string, opts ...LoadOption) (*Key, error) {
	kr, err := loadKeys(path, "key file", opts)
	if err != nil {
		return nil, err
	}
	if kr.Len() != 1 {
		return nil, fmt.Errorf("key file %s: holds %d keys, want exactly one (use it as a keyring instead)", path, kr.Len())
	}
	return kr.keys[0], nil
}

// WriteKeyFile writes k to a new file at path with mode 0600. It refuses to
// overwrite an existing file.
func WriteKeyFile(path string, k *Key) error {
	b, err := k.MarshalText()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// A LoadOption changes how LoadKey, LoadKeyring, OpenKeyFile (and
// legacy.LoadKey) read a key file.
type LoadOption func(*loadConfig)

type loadConfig struct {
	warn func(msg string)
}

// OnWarning has warn called with each warning about a key file (one that is
// readable by group or others), a sentence without the program's name.
// Without it a warning is printed on the process's standard error as
// "PROGRAM: warning: …"; a command that writes to streams of its own
// passes OnWarning to have it there.
func OnWarning(warn func(msg string)) LoadOption {
	return func(c *loadConfig) { c.warn = warn }
}

// OpenKeyFile opens the key file at path for reading, and warns (see
// OnWarning) when it is a regular file readable by group or others: a
// secret that others can read is no longer a secret. It is how every key
// format's loader opens its file.
func OpenKeyFile(path string, opts ...LoadOption) (*os.File, error) {
	c := loadConfig{warn: warnOnStderr}
	for _, o := range opts {
		o(&c)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		perm := fi.Mode().Perm()
		c.warn(fmt.Sprintf("key file %s is accessible by group or others (mode %04o); run: chmod 600 %s", path, perm, path))
	}
	return f, nil
}

func warnOnStderr(msg string) {
	fmt.Fprintf(os.Stderr, "%s: warning: %s\n", filepath.Base(os.Args[0]), msg)
}

// ValidOrigin reports whether s is a well-formed origin: [a-z][a-z0-9-]*, at
// most 64 bytes.
func ValidOrigin(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidKID reports whether s is a well-formed key id: 1 to 64 of
// [A-Za-z0-9._-], starting with a letter or digit.
func ValidKID(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidOperation reports whether s is a well-formed operation name: 1 to 64
// of [A-Za-z0-9._-], starting with a letter.
func ValidOperation(s string) bool {
	if len(s) == 0 || len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	return ValidKID(s)
}

// ValidSubject reports whether s is a well-formed subject: 1 to 128 of
// [A-Za-z0-9._:@-].
func ValidSubject(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("._:@-", rune(c)) {
			return false
		}
	}
	return true
}

// validID: 1 to 128 printable ASCII characters other than space.
func validID(s []byte) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
