package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
	"github.com/hms-toolkit/hms/pkg/lines"
)

// A span is a piece of a batch's arena (or of its text).
type span struct{ off, end int32 }

// fate is where a document of a batch stands.
type fate uint8

const (
	pending    fate = iota
	stored          // inserted, updated or already present: counted
	failed          // refused by the server: counted, reported
	notWritten      // the load stopped before it was sent
	cutShort        // the load stopped while it was being written
)

// batch is a run of parsed lines on their way to the server.
type batch struct {
	arena    []byte
	text     []byte // the lines' text, with KeepText
	keepText bool
	lines    []int64 // per document
	texts    []span  // per document, with KeepText
	ins      []span  // the document to insert (with _id)
	upd      []span  // Replace/Merge: the replacement or $set document
	filter   []span  // Replace/Merge: the key filter
	idFilter []span  // Replace/Merge: the key filter and the _id the document would have
	repeat   []bool  // Replace/Merge: key seen earlier in this batch
	dupOf    []int   // Insert: an earlier document with an equal _id, or -1
	fates    []fate
	errs     []error // per document: why it was not stored
	seen     map[string]int
	rejects  []LineError // Text unset: see rejText
	rejText  []span
	read     int64
	scratch  []byte
}

func newBatch(keepText bool) *batch {
	return &batch{seen: map[string]int{}, keepText: keepText}
}

func (b *batch) reset() {
	b.arena, b.text = b.arena[:0], b.text[:0]
	b.lines, b.texts, b.ins, b.upd, b.filter = b.lines[:0], b.texts[:0], b.ins[:0], b.upd[:0], b.filter[:0]
	b.idFilter, b.repeat, b.dupOf, b.fates, b.errs = b.idFilter[:0], b.repeat[:0], b.dupOf[:0], b.fates[:0], b.errs[:0]
	clear(b.seen)
	b.rejects, b.rejText = b.rejects[:0], b.rejText[:0]
	b.read = 0
}

func (b *batch) empty() bool { return len(b.lines) == 0 && len(b.rejects) == 0 }

func (b *batch) full(n int) bool {
	return len(b.lines) >= n || len(b.rejects) >= n || len(b.arena) >= maxBatchBytes
}

func (b *batch) doc(s span) bson.Raw { return bson.Raw(b.arena[s.off:s.end:s.end]) }

// keep appends text to the batch's text, with KeepText.
func (b *batch) keep(text []byte) span {
	if !b.keepText {
		return span{}
	}
	s := len(b.text)
	b.text = append(b.text, text...)
	return span{int32(s), int32(len(b.text))}
}

func (b *batch) textOf(s span) []byte { return b.text[s.off:s.end:s.end] }

// addDoc adds a document for line and returns its index; the caller sets
// its spans.
func (b *batch) addDoc(line int64, text []byte) int {
	b.lines = append(b.lines, line)
	b.texts = append(b.texts, b.keep(text))
	b.ins = append(b.ins, span{})
	b.dupOf = append(b.dupOf, -1)
	b.fates = append(b.fates, pending)
	b.errs = append(b.errs, nil)
	return len(b.lines) - 1
}

// add parses the feed's line ln into b, or records its rejection.
func (l *loader) add(b *batch, ln lines.Line) {
	l.lastLine = ln.Num
	if ln.Err == nil && len(bytes.TrimSpace(ln.Text)) == 0 {
		return // blank: numbered, not counted
	}
	b.read++
	l.opt.Meter.read.Add(1)
	err := ln.Err
	if err == nil {
		err = l.parse(b, ln.Num, ln.Text)
	}
	if err != nil {
		b.rejects = append(b.rejects, LineError{Line: ln.Num, Outcome: Rejected, Err: err})
		b.rejText = append(b.rejText, b.keep(ln.Text))
	}
}

// parse adds the document of one line to b.
func (l *loader) parse(b *batch, line int64, text []byte) error {
	var err error
	b.scratch, err = jsonbson.ParseJSON(b.scratch[:0], text, jsonbson.Strict)
	if err != nil {
		return err
	}
	doc := bson.Raw(b.scratch)
	if len(doc) > MaxDocumentSize {
		return fmt.Errorf("document is %d bytes, over the %d-byte BSON limit", len(doc), MaxDocumentSize)
	}
	if id, ok := jsonbson.Lookup(doc, "_id"); ok && id[0] == 0x04 {
		return errors.New("_id is an array, which cannot be an _id")
	}
	if l.opt.Mode == Insert {
		return l.parseInsert(b, line, doc, text)
	}
	return l.parseUpsert(b, line, doc, text)
}

func (l *loader) parseInsert(b *batch, line int64, doc bson.Raw, text []byte) error {
	id, hasID := jsonbson.Lookup(doc, "_id")
	var from []byte // the element whose value becomes _id
	if f := l.opt.IDField; f != "" {
		v, ok := jsonbson.Lookup(doc, f)
		switch {
		case !ok:
			return fmt.Errorf("no field %q to use as the _id", f)
		case v[0] == 0x04:
			return fmt.Errorf("field %q is an array, which cannot be an _id", f)
		case !hasID:
			from = v
		default:
			k1, scratch := idKey(nil, id)
			if k2, _ := idKey(scratch, v); k1 != k2 {
				return fmt.Errorf("_id %s and %q %s differ", describeID(id), f, describeID(v))
			}
		}
	}
	fresh := from == nil && !hasID && l.opt.NewIDs
	if fresh {
		oid := bson.NewObjectID()
		from = append([]byte{0x07, 0}, oid[:]...)
	}
	i := b.addDoc(line, text)
	b.ins[i] = b.appendWithID(from, doc)
	if !fresh {
		el, _ := jsonbson.Lookup(b.doc(b.ins[i]), "_id")
		var key string
		key, b.scratch = idKey(b.scratch, el)
		if j, ok := b.seen[key]; ok {
			b.dupOf[i] = j
		} else {
			b.seen[key] = i
		}
	}
	return nil
}

// parseUpsert adds a Replace or Merge document: its key filter, the _id a
// new record gets (derived from the key, so that later updates find it by
// _id: the one field FerretDB looks up through an index), and its update.
func (l *loader) parseUpsert(b *batch, line int64, doc bson.Raw, text []byte) error {
	fstart := len(b.arena)
	b.arena = append(b.arena, 0, 0, 0, 0)
	canon := b.scratch[len(doc):len(doc)] // after the document, reused
	for _, k := range l.opt.Keys {
		v, ok := jsonbson.Lookup(doc, k)
		if !ok {
			b.arena = b.arena[:fstart]
			return fmt.Errorf("no key field %q", k)
		}
		b.arena = append(b.arena, v...) // type, name, value: an element
		canon = canonicalElement(canon, v)
	}
	b.arena = append(b.arena, 0)
	binary.LittleEndian.PutUint32(b.arena[fstart:], uint32(len(b.arena)-fstart))
	filter := span{int32(fstart), int32(len(b.arena))}
	_, repeat := b.seen[string(canon)]
	i := b.addDoc(line, text)
	b.seen[string(canon)] = i
	b.filter = append(b.filter, filter)
	b.repeat = append(b.repeat, repeat)
	id, hasID := jsonbson.Lookup(doc, "_id")
	if hasID {
		b.ins[i] = b.appendWithID(nil, doc)
	} else {
		id = append([]byte{0x07, 0}, KeyID(canon)...)
		b.ins[i] = b.appendWithID(id, doc)
	}
	if l.keyIsID() {
		b.idFilter = append(b.idFilter, filter)
	} else {
		// {_id: id, key fields...}
		s := len(b.arena)
		b.arena = append(b.arena, 0, 0, 0, 0, id[0], '_', 'i', 'd', 0)
		b.arena = append(b.arena, id[bytes.IndexByte(id[1:], 0)+2:]...)
		b.arena = append(b.arena, b.arena[fstart+4:filter.end-1]...)
		b.arena = append(b.arena, 0)
		binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
		b.idFilter = append(b.idFilter, span{int32(s), int32(len(b.arena))})
	}
	if l.opt.Mode == Merge && hasID {
		b.upd = append(b.upd, b.appendWithout(doc, "_id"))
	} else {
		s := len(b.arena)
		b.arena = append(b.arena, doc...)
		b.upd = append(b.upd, span{int32(s), int32(len(b.arena))})
	}
	return nil
}

// appendWithID appends doc to the arena with _id first: the value of
// element idFrom (renamed _id), or ContentID when idFrom is nil and doc has
// no _id, or doc as it is when it has one.
func (b *batch) appendWithID(idFrom []byte, doc bson.Raw) span {
	s := len(b.arena)
	if idFrom == nil {
		if _, ok := jsonbson.Lookup(doc, "_id"); ok {
			b.arena = append(b.arena, doc...)
			return span{int32(s), int32(len(b.arena))}
		}
	}
	b.arena = append(b.arena, 0, 0, 0, 0)
	if idFrom == nil {
		b.arena = append(b.arena, 0x07, '_', 'i', 'd', 0)
		b.arena = append(b.arena, ContentID(doc)...)
	} else {
		t, v := jsonbson.ElementValue(idFrom)
		b.arena = append(b.arena, t, '_', 'i', 'd', 0)
		b.arena = append(b.arena, v...)
	}
	b.arena = append(b.arena, doc[4:]...)
	binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
	return span{int32(s), int32(len(b.arena))}
}

// appendWithout appends doc without its top-level element key.
func (b *batch) appendWithout(doc bson.Raw, key string) span {
	s := len(b.arena)
	b.arena = append(b.arena, 0, 0, 0, 0)
	for body := doc[4 : len(doc)-1]; len(body) > 0; {
		el, _ := firstElement(body)
		body = body[len(el):]
		if !bytes.HasPrefix(el[1:], []byte(key+"\x00")) {
			b.arena = append(b.arena, el...)
		}
	}
	b.arena = append(b.arena, 0)
	binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
	return span{int32(s), int32(len(b.arena))}
}
