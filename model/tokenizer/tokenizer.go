package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// spaceMark is the SentencePiece meta symbol "▁" (U+2581) that stands for a
// space inside pieces.
const spaceMark = "\u2581"

// Tokenizer encodes text to ids and back with a Vocab. It is safe for
// concurrent use.
type Tokenizer struct {
	vocab     *Vocab
	mergeable map[string]int32 // normal and user-defined pieces: what text may become
	maxPiece  int              // longest mergeable piece in bytes
	// Adjacent characters some mergeable piece holds: ASCII pairs in a
	// bitmap, others in a map. noCut disables cutting (a piece is not
	// valid UTF-8).
	asciiPairs [128 * 128 / 64]uint64
	pairs      map[uint64]struct{}
	noCut      bool
	byteID     [256]int32 // id of <0xNN> for each byte, -1 when absent
	hasBytes   bool       // every byte has a piece: byte fallback is on
	decoded    [][]byte   // bytes each id decodes to
	textual    []bool     // id produces text (not a control/special piece)
	userDef    []special  // user-defined pieces: always matched in text
	specials   []special  // user-defined, control and unknown pieces: matched with ParseSpecial
	bpe        *byteLevel // byte-level BPE (Model "gpt2"); nil for SentencePiece
}

// special is a piece matched atomically in the text.
type special struct {
	text string
	id   int32
}

// New checks v and builds a Tokenizer over it. v must not be modified
// afterwards.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	t := &Tokenizer{vocab: v, mergeable: make(map[string]int32, len(v.Tokens))}
	for i := range t.byteID {
		t.byteID[i] = -1
	}
	t.decoded = make([][]byte, len(v.Tokens))
	t.textual = make([]bool, len(v.Tokens))
	nBytes := 0
	for i, p := range v.Tokens {
		id := int32(i)
		switch v.Types[i] {
		case TypeNormal, TypeUserDefined:
			if p == "" {
				break
			}
			if v.Model == ModelGPT2 {
				t.decoded[i] = decodeByteLevel(p)
			} else {
				if _, dup := t.mergeable[p]; !dup { // the first id wins, as in llama.cpp
					t.mergeable[p] = id
					t.maxPiece = max(t.maxPiece, len(p))
				}
				t.decoded[i] = []byte(strings.ReplaceAll(p, spaceMark, " "))
			}
			t.textual[i] = true
			if v.Types[i] == TypeUserDefined {
				t.userDef = append(t.userDef, special{text: p, id: id})
				t.specials = append(t.specials, special{text: p, id: id})
			}
		case TypeUnused:
			t.decoded[i] = []byte(strings.ReplaceAll(p, spaceMark, " "))
			t.textual[i] = true
		case TypeByte:
			b, _ := parseBytePiece(p) // checked by Validate
			if t.byteID[b] < 0 {
				t.byteID[b] = id
				nBytes++
			}
			t.decoded[i] = []byte{b}
			t.textual[i] = true
		case TypeUnknown:
			// SentencePiece decodes <unk> to " ⁇ ".
			t.decoded[i] = []byte(" \u2047 ")
			t.textual[i] = true
			t.specials = append(t.specials, special{text: p, id: id})
		case TypeControl:
			t.specials = append(t.specials, special{text: p, id: id})
		}
	}
	t.hasBytes = nBytes == 256
	if v.Model == ModelGPT2 {
		var err error
		if t.bpe, err = newByteLevel(v); err != nil {
			return nil, err
		}
	} else {
		t.indexPairs()
	}
	// Longest first, so "</s>" is tried before a hypothetical "</".
	t.userDef = sortSpecials(t.userDef)
	t.specials = sortSpecials(t.specials)
	return t, nil
}

// indexPairs records every pair of adjacent characters inside a mergeable
// piece.
func (t *Tokenizer) indexPairs() {
	t.pairs = map[uint64]struct{}{}
	for p := range t.mergeable {
		if !utf8.ValidString(p) {
			t.noCut = true
			return
		}
		prev := rune(-1)
		for _, r := range p {
			if prev >= 0 {
				if prev < 128 && r < 128 {
					k := prev<<7 | r
					t.asciiPairs[k>>6] |= 1 << (k & 63)
				} else {
					t.pairs[uint64(prev)<<32|uint64(r)] = struct{}{}
				}
			}
			prev = r
		}
	}
}

// joinable reports whether some mergeable piece holds character a followed
// by b (-1 stands for an invalid byte, which no piece holds).
func (t *Tokenizer) joinable(a, b rune) bool {
	switch {
	case t.noCut:
		return true
	case a < 0 || b < 0:
		return false
	case a < 128 && b < 128:
		k := a<<7 | b
		return t.asciiPairs[k>>6]&(1<<(k&63)) != 0
	}
	_, ok := t.pairs[uint64(a)<<32|uint64(b)]
	return ok
}

// sortSpecials orders s longest first (then by id) and drops empty texts,
// which would match everywhere.
func sortSpecials(s []special) []special {
	// insertion sort: a handful of entries
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j].text) > len(s[j-1].text) ||
			len(s[j].text) == len(s[j-1].text) && s[j].id < s[j-1].id); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	k := 0
	for _, x := range s {
		if x.text != "" {
			s[k] = x
			k++
		}
	}
	return s[:k]
}

// Vocab returns the vocabulary t was built from; it must not be modified.
func (t *Tokenizer) Vocab() *Vocab { return t.vocab }

// BOS returns the beginning-of-sequence id (-1 when absent).
func (t *Tokenizer) BOS() int32 { return t.vocab.BOS }

// EOS returns the end-of-sequence id (-1 when absent).
func (t *Tokenizer) EOS() int32 { return t.vocab.EOS }

// VocabSize returns the number of pieces.
func (t *Tokenizer) VocabSize() int { return len(t.vocab.Tokens) }

// Piece returns the piece of id as stored in the vocabulary ("" when out of
// range).
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.vocab.Tokens) {
		return ""
	}
	return t.vocab.Tokens[id]
}

// EncodeOptions select how EncodeWith treats its input.
type EncodeOptions struct {
	AddBOS bool // prepend the BOS id (when the vocabulary has one)
	AddEOS bool // append the EOS id (when the vocabulary has one)
	// ParseSpecial makes control pieces written in the text ("<s>", "</s>",
	// "<unk>") encode to their ids. Off, they are plain text. Never set it
	// for untrusted input.
	ParseSpecial bool
}

// Encode tokenizes text as plain text (control pieces in it are not
// recognised) and prepends BOS when addBOS is set.
func (t *Tokenizer) Encode(text string, addBOS bool) []int32 {
	return t.EncodeWith(text, EncodeOptions{AddBOS: addBOS})
}

// EncodeWith tokenizes text with the given options. Like llama.cpp, the text
// is cut at special pieces and each remaining fragment is tokenized on its
// own, with the dummy "▁" prefix when the vocabulary asks for one and the
// fragment starts the text or follows a special piece. Empty text gives no
// ids besides BOS/EOS.
func (t *Tokenizer) EncodeWith(text string, opt EncodeOptions) []int32 {
	out := make([]int32, 0, len(text)/3+2)
	if opt.AddBOS && t.vocab.BOS >= 0 {
		out = append(out, t.vocab.BOS)
	}
	s := sessions.Get().(*session)
	defer sessions.Put(s)
	prevSpecial := true
	rest := text
	for len(rest) > 0 {
		pos, sp := t.nextSpecial(rest, opt.ParseSpecial)
		if pos > 0 {
			if t.bpe != nil {
				out = t.bpe.encode(s, out, rest[:pos])
			} else {
				out = s.encode(t, out, rest[:pos], prevSpecial && t.vocab.AddSpacePrefix)
			}
			prevSpecial = false
		}
		if sp == nil {
			break
		}
		out = append(out, sp.id)
		prevSpecial = true
		rest = rest[pos+len(sp.text):]
	}
	if opt.AddEOS && t.vocab.EOS >= 0 {
		out = append(out, t.vocab.EOS)
	}
	return out
}

// nextSpecial finds the first special piece in s that applies; it returns
// len(s), nil when there is none.
func (t *Tokenizer) nextSpecial(s string, parseSpecial bool) (int, *special) {
	list := t.userDef
	if parseSpecial {
		list = t.specials
	}
	if len(list) == 0 {
		return len(s), nil
	}
	for i := 0; i < len(s); i++ {
		for k := range list {
			sp := &list[k]
			if sp.text[0] == s[i] && strings.HasPrefix(s[i:], sp.text) {
				return i, sp
			}
		}
	}
	return len(s), nil
}

// symbol is a span of the escaped text in a doubly linked list; n == 0 marks
// a symbol merged into its left neighbour.
type symbol struct {
	start, n   int32
	prev, next int32
}

// bigram is a candidate merge of symbols left and left's next neighbour.
type bigram struct {
	score float32
	left  int32
	size  int32 // bytes of the merged text when the bigram was made
}

// session holds the scratch space of one Encode call.
type session struct {
	buf  []byte
	syms []symbol
	heap []bigram
}

// sessions recycles scratch space between Encode calls.
var sessions = sync.Pool{New: func() any { return new(session) }}

// maxKeep bounds the scratch space a session keeps for reuse, so one huge
// text does not pin its buffers.
const maxKeep = 1 << 20

// encode appends the ids of one plain-text fragment.
func (s *session) encode(t *Tokenizer, out []int32, text string, prefix bool) []int32 {
	// Escape: optional dummy prefix, spaces become "▁".
	if cap(s.buf) > maxKeep && len(text) < maxKeep/4 {
		s.buf = nil
	}
	s.buf = s.buf[:0]
	if prefix {
		s.buf = append(s.buf, spaceMark...)
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			s.buf = append(s.buf, spaceMark...)
		} else {
			s.buf = append(s.buf, text[i])
		}
	}
	buf := s.buf
	if cap(s.syms) > maxKeep && len(buf) < maxKeep {
		s.syms, s.heap = nil, nil
	}
	// One symbol per UTF-8 character; each invalid byte is a symbol of its
	// own. Merges never join two adjacent characters that no piece holds
	// next to each other, so the text is cut there and each segment merged
	// on its own: the result is the same and the queues stay small.
	s.syms = s.syms[:0]
	prev := rune(-1)
	for i := 0; i < len(buf); {
		r, n := rune(buf[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && n == 1 {
				r = -1
			}
		}
		if len(s.syms) > 0 && !t.joinable(prev, r) {
			out = s.merge(t, out)
			s.syms = s.syms[:0]
		}
		k := int32(len(s.syms))
		s.syms = append(s.syms, symbol{start: int32(i), n: int32(n), prev: k - 1, next: k + 1})
		prev = r
		i += n
	}
	return s.merge(t, out)
}

// merge runs the score-driven merges over the symbols of one segment and
// appends their ids.
func (s *session) merge(t *Tokenizer, out []int32) []int32 {
	if len(s.syms) == 0 {
		return out
	}
	buf := s.buf
	s.syms[len(s.syms)-1].next = -1
	s.heap = s.heap[:0]
	for i := 1; i < len(s.syms); i++ {
		s.tryAdd(t, int32(i-1))
	}
	for len(s.heap) > 0 {
		b := s.pop()
		l := &s.syms[b.left]
		if l.n == 0 || l.next < 0 {
			continue
		}
		r := &s.syms[l.next]
		if r.n == 0 || l.n+r.n != b.size {
			continue // stale: one side changed since the bigram was made
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if l.next >= 0 {
			s.syms[l.next].prev = b.left
		}
		if l.prev >= 0 {
			s.tryAdd(t, l.prev)
		}
		s.tryAdd(t, b.left)
	}
	for i := int32(0); i >= 0; i = s.syms[i].next {
		sym := s.syms[i]
		piece := buf[sym.start : sym.start+sym.n]
		if id, ok := t.mergeable[string(piece)]; ok {
			out = append(out, id)
			continue
		}
		// Only single characters can be missing (merges always make pieces
		// of the vocabulary): byte fallback, or one <unk> per character.
		if t.hasBytes {
			for _, c := range piece {
				out = append(out, t.byteID[c])
			}
		} else if t.vocab.UNK >= 0 {
			out = append(out, t.vocab.UNK)
		}
	}
	return out
}

// tryAdd queues the merge of symbol left with its right neighbour when the
// concatenation is a piece.
func (s *session) tryAdd(t *Tokenizer, left int32) {
	l := s.syms[left]
	if l.next < 0 {
		return
	}
	r := s.syms[l.next]
	size := l.n + r.n
	if int(size) > t.maxPiece {
		return
	}
	id, ok := t.mergeable[string(s.buf[l.start:l.start+size])]
	if !ok {
		return
	}
	s.push(bigram{score: t.vocab.Scores[id], left: left, size: size})
}

// before orders the queue: higher score first, then the leftmost.
func before(a, b bigram) bool {
	return a.score > b.score || a.score == b.score && a.left < b.left
}

func (s *session) push(b bigram) {
	h := append(s.heap, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.heap = h
}

func (s *session) pop() bigram {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && before(h[r], h[l]) {
			m = r
		}
		if !before(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return top
}

// appendPiece appends the bytes id decodes to. *first is true until the first
// text-producing id; that id loses one leading space when the vocabulary adds
// a dummy prefix. Control ids and ids out of range produce nothing.
func (t *Tokenizer) appendPiece(dst []byte, id int32, first *bool) []byte {
	if id < 0 || int(id) >= len(t.decoded) || !t.textual[id] {
		return dst
	}
	p := t.decoded[id]
	if *first {
		*first = false
		if t.vocab.AddSpacePrefix && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
	}
	return append(dst, p...)
}

// Decode turns ids back into text: pieces with "▁" as spaces, byte pieces as
// their bytes, control ids dropped, and the dummy prefix space of the first
// piece removed. The result holds exactly the decoded bytes, so it may be
// invalid UTF-8 when the ids stop inside a character; use a StreamDecoder for
// output that is always valid UTF-8.
func (t *Tokenizer) Decode(ids []int32) string {
	var out []byte
	first := true
	for _, id := range ids {
		out = t.appendPiece(out, id, &first)
	}
	return string(out)
}

// StreamDecoder decodes ids one at a time for streaming output. It returns
// only complete, valid UTF-8: bytes of a character still arriving piece by
// piece are held back, and bytes that can never form a character are
// replaced by U+FFFD.
type StreamDecoder struct {
	t       *Tokenizer
	first   bool
	pending []byte // at most utf8.UTFMax-1 bytes of an incomplete character
	out     []byte
}

// NewStreamDecoder starts decoding a new sequence.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, first: true}
}

// Add decodes one more id and returns the text that became complete.
func (d *StreamDecoder) Add(id int32) string {
	d.pending = d.t.appendPiece(d.pending, id, &d.first)
	d.out = d.out[:0]
	p := d.pending
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n <= 1 {
			if !utf8.FullRune(p) {
				break // the start of a character: wait for more bytes
			}
			d.out = append(d.out, "\uFFFD"...)
			p = p[1:]
			continue
		}
		d.out = append(d.out, p[:n]...)
		p = p[n:]
	}
	d.pending = append(d.pending[:0], p...)
	return string(d.out)
}

// Flush ends the sequence: held-back bytes of an unfinished character are
// returned as U+FFFD, one per byte, and the decoder starts over.
func (d *StreamDecoder) Flush() string {
	s := strings.Repeat("\uFFFD", len(d.pending))
	d.pending = d.pending[:0]
	d.first = true
	return s
}
