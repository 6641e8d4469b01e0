package factorstream

import (
	"bytes"
	"io"
)

// chunk is a run of whole tokens and, once a worker is on it, its output.
type chunk struct {
	data    []byte
	line    int  // line number of data[0]
	midLine bool // a token came before data[0] on its line
	longTok int  // > 0: data is the start of a token of at least longTok bytes
	endLine int  // the line the next chunk starts on
	endMid  bool // … after a token of it

	out *outbox // what the worker made of it, in order
}

// reader cuts the input into chunks of whole tokens, preferring line ends,
// and hands each to emit, which reports false when no more are wanted.
type reader struct {
	r       io.Reader
	line    int
	midLine bool
	emit    func(*chunk) bool
}

// run reads to the end of the input (or until emit says stop) and returns
// the read error, if any.
func (rd *reader) run() error {
	var pending []byte
	skipping := false // inside an overlong token, dropping bytes
	for {
		if cap(pending)-len(pending) < readSize {
			nb := make([]byte, len(pending), len(pending)+readSize+readSize/2)
			copy(nb, pending)
			pending = nb
		}
		start := len(pending)
		n, err := rd.r.Read(pending[start : start+readSize])
		pending = pending[:start+n]
		if skipping && n > 0 {
			pending, skipping = skipToken(pending, start)
		}
		if err != nil {
			if len(pending) > 0 && !rd.send(pending, 0) {
				return nil
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		cut := bytes.LastIndexByte(pending, '\n') + 1
		if cut == 0 {
			cut = lastSpace(pending) + 1
		}
		if cut == 0 {
			if len(pending) > maxToken {
				// One token, too long to be a number: report its start.
				if !rd.send(pending[:64:64], len(pending)) {
					return nil
				}
				pending, skipping, rd.midLine = nil, true, true
			}
			continue
		}
		if !rd.send(pending[:cut:cut], 0) {
			return nil
		}
		rest := pending[cut:]
		pending = make([]byte, len(rest), len(rest)+readSize+readSize/2)
		copy(pending, rest)
	}
}

// send emits data as the next chunk (the start of an overlong token when
// longTok > 0) and advances the line count past it.
func (rd *reader) send(data []byte, longTok int) bool {
	c := &chunk{data: data, line: rd.line, midLine: rd.midLine, longTok: longTok}
	if longTok == 0 {
		rd.line += bytes.Count(data, []byte{'\n'})
		rd.midLine = tokenAfterNewline(data, rd.midLine)
	}
	c.endLine, c.endMid = rd.line, rd.midLine || longTok > 0
	return rd.emit(c)
}

// skipToken drops the bytes from start on up to the first whitespace (the
// rest of an overlong token); it reports whether the token goes on.
func skipToken(pending []byte, start int) ([]byte, bool) {
	i := bytes.IndexFunc(pending[start:], func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	if i < 0 {
		return pending[:start], true
	}
	return append(pending[:start], pending[start+i:]...), false
}

// tokenAfterNewline reports whether the line that b ends in has a token
// in it, given whether it had one before b (for --drop-key).
func tokenAfterNewline(b []byte, before bool) bool {
	i := bytes.LastIndexByte(b, '\n')
	if i >= 0 {
		before = false
	}
	for _, c := range b[i+1:] {
		if !isSpace(c) {
			return true
		}
	}
	return before
}

func lastSpace(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isSpace(b[i]) {
			return i
		}
	}
	return -1
}
