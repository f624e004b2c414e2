package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Byte-level BPE (GPT-2 style, as Llama-3 uses it): the text is split by a
// pre-tokenizer pattern, each piece's UTF-8 bytes are written as printable
// characters (byteRune), and adjacent symbols are merged by merge rank, the
// lowest rank first (leftmost on ties). A piece that is itself in the
// vocabulary is emitted whole, without merging (Llama-3's "ignore_merges").

// PreLlama3 names the Llama-3 pre-tokenizer (llama.cpp's tokenizer.ggml.pre
// "llama-bpe"), the split pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
const PreLlama3 = "llama-bpe"

// llama3Pattern is the split pattern of Llama-3's tokenizer.json, by which a
// tokenizer.json is recognised as PreLlama3.
const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// byteRune maps each byte to the character that stands for it in byte-level
// pieces: printable Latin-1 bytes stand for themselves, the other 68 bytes
// for U+0100 onwards, in byte order. runeByte is the inverse.
var byteRune, runeByte = func() ([256]rune, map[rune]byte) {
	var br [256]rune
	rb := make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			br[b] = rune(b)
		} else {
			br[b] = next
			next++
		}
		rb[br[b]] = byte(b)
	}
	return br, rb
}()

// byteLevel is the part of a Tokenizer that encodes byte-level BPE.
type byteLevel struct {
	ids    map[string]int32 // normal pieces (byte-level text) → id
	byteID [256]int32       // id of each single-byte piece
	merges map[uint64]merge // (left id, right id) → merge
}

// merge is one BPE merge: its rank and the id of the piece it makes.
type merge struct {
	rank, id int32
}

// newByteLevel indexes the normal pieces and the merges of v.
func newByteLevel(v *Vocab) (*byteLevel, error) {
	b := &byteLevel{ids: make(map[string]int32, len(v.Tokens)), merges: make(map[uint64]merge, len(v.Merges))}
	for i, p := range v.Tokens {
		if v.Types[i] != TypeNormal && v.Types[i] != TypeUserDefined {
			continue
		}
		if _, dup := b.ids[p]; !dup {
			b.ids[p] = int32(i)
		}
	}
	for c := range b.byteID {
		id, ok := b.ids[string(byteRune[c])]
		if !ok {
			return nil, fmt.Errorf("tokenizer: byte-level vocabulary has no piece for byte 0x%02X (%q)", c, string(byteRune[c]))
		}
		b.byteID[c] = id
	}
	for r, m := range v.Merges {
		l, rt, ok := strings.Cut(m, " ")
		if !ok || l == "" || rt == "" || strings.Contains(rt, " ") {
			return nil, fmt.Errorf("tokenizer: merge %d %q is not two pieces separated by one space", r, m)
		}
		li, ok1 := b.ids[l]
		ri, ok2 := b.ids[rt]
		id, ok3 := b.ids[l+rt]
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("tokenizer: merge %d %q: a part or the result is not a normal piece", r, m)
		}
		k := uint64(li)<<32 | uint64(uint32(ri))
		if _, dup := b.merges[k]; !dup {
			b.merges[k] = merge{rank: int32(r), id: id}
		}
	}
	return b, nil
}

// encode appends the ids of one plain-text fragment.
func (b *byteLevel) encode(s *session, out []int32, text string) []int32 {
	text = validUTF8(text)
	for len(text) > 0 {
		n := llama3Split(text)
		out = b.encodeWord(s, out, text[:n])
		text = text[n:]
	}
	return out
}

// encodeWord appends the ids of one pre-tokenized piece.
func (b *byteLevel) encodeWord(s *session, out []int32, word string) []int32 {
	s.buf = s.buf[:0]
	for i := 0; i < len(word); i++ {
		s.buf = utf8.AppendRune(s.buf, byteRune[word[i]])
	}
	if id, ok := b.ids[string(s.buf)]; ok {
		return append(out, id)
	}
	// Symbols hold ids; start records the id of each symbol (n > 0 marks a
	// live symbol). The queue holds candidate merges keyed by rank.
	s.syms = s.syms[:0]
	for i := 0; i < len(word); i++ {
		k := int32(i)
		s.syms = append(s.syms, symbol{start: b.byteID[word[i]], n: 1, prev: k - 1, next: k + 1})
	}
	s.syms[len(s.syms)-1].next = -1
	s.heap = s.heap[:0]
	for i := 1; i < len(s.syms); i++ {
		b.tryMerge(s, int32(i-1))
	}
	for len(s.heap) > 0 {
		c := s.pop()
		l := &s.syms[c.left]
		if l.n == 0 || l.next < 0 {
			continue
		}
		r := &s.syms[l.next]
		m, ok := b.merges[uint64(l.start)<<32|uint64(uint32(r.start))]
		if r.n == 0 || !ok || m.id != c.size {
			continue // stale: one side changed since the candidate was queued
		}
		l.start, l.n = m.id, l.n+r.n
		r.n = 0
		l.next = r.next
		if l.next >= 0 {
			s.syms[l.next].prev = c.left
		}
		if l.prev >= 0 {
			b.tryMerge(s, l.prev)
		}
		b.tryMerge(s, c.left)
	}
	for i := int32(0); i >= 0; i = s.syms[i].next {
		out = append(out, s.syms[i].start)
	}
	return out
}

// tryMerge queues the merge of symbol left with its right neighbour when
// there is one. The queue orders by score, higher first, so the score is
// minus the rank; size carries the id the merge makes, to detect stale
// entries.
func (b *byteLevel) tryMerge(s *session, left int32) {
	l := s.syms[left]
	if l.next < 0 {
		return
	}
	m, ok := b.merges[uint64(l.start)<<32|uint64(uint32(s.syms[l.next].start))]
	if !ok {
		return
	}
	s.push(bigram{score: -float32(m.rank), left: left, size: m.id})
}

// decodeByteLevel returns the bytes a byte-level piece stands for; characters
// outside the byte map (never in a well-formed vocabulary) are kept as UTF-8.
func decodeByteLevel(p string) []byte {
	out := make([]byte, 0, len(p))
	for _, r := range p {
		if c, ok := runeByte[r]; ok {
			out = append(out, c)
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

// validUTF8 replaces each maximal invalid subpart of s by U+FFFD, as the
// WHATWG and Python UTF-8 decoders do: what a caller of the reference
// tokenizers passes for the same bytes.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			sb.WriteString(s[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += invalidSubpart(s[i:])
	}
	return sb.String()
}

// invalidSubpart returns the length of the maximal prefix of s (which does
// not start with a valid character) that could begin a valid UTF-8
// sequence, at least 1.
func invalidSubpart(s string) int {
	c := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// isLetter, isNumber and isSpace are \p{L}, \p{N} and \s of the split
// pattern (\s as in JavaScript and Rust: White_Space).
func isLetter(r rune) bool {
	return r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') || r >= utf8.RuneSelf && unicode.IsLetter(r)
}
func isNumber(r rune) bool { return '0' <= r && r <= '9' || r >= utf8.RuneSelf && unicode.IsNumber(r) }
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return 0x2000 <= r && r <= 0x200A
}

// llama3Split returns the length in bytes of the first piece of s (not
// empty) under the Llama-3 split pattern. The alternatives are tried in the
// pattern's order, as a backtracking regexp engine does.
func llama3Split(s string) int {
	r0, n0 := utf8.DecodeRuneInString(s)
	at := func(i int) (rune, int) {
		if i >= len(s) {
			return -1, 0
		}
		return utf8.DecodeRuneInString(s[i:])
	}
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' {
		r1, n1 := at(1)
		switch lower(r1) {
		case 's', 't', 'm', 'd':
			return 1 + n1
		case 'r', 'v', 'l':
			r2, n2 := at(1 + n1)
			if lower(r1) == 'r' && lower(r2) == 'e' || lower(r1) == 'v' && lower(r2) == 'e' || lower(r1) == 'l' && lower(r2) == 'l' {
				return 1 + n1 + n2
			}
		}
	}
	letters := func(i int) int { // end of the letter run starting at i
		for {
			r, n := at(i)
			if n == 0 || !isLetter(r) {
				return i
			}
			i += n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isLetter(r0) {
		return letters(n0)
	}
	if r0 != '\r' && r0 != '\n' && !isNumber(r0) {
		if r1, n1 := at(n0); n1 > 0 && isLetter(r1) {
			return letters(n0 + n1)
		}
	}
	// \p{N}{1,3}
	if isNumber(r0) {
		i := n0
		for k := 1; k < 3; k++ {
			r, n := at(i)
			if n == 0 || !isNumber(r) {
				break
			}
			i += n
		}
		return i
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	other := func(r rune) bool { return !isSpace(r) && !isLetter(r) && !isNumber(r) }
	start := 0
	if r0 == ' ' {
		start = 1
	}
	if r, n := at(start); n > 0 && other(r) {
		i := start + n
		for {
			r, n := at(i)
			if n == 0 || !other(r) {
				break
			}
			i += n
		}
		for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
			i++
		}
		return i
	}
	// The remaining alternatives start with whitespace; r0 is whitespace
	// here (every other character matched above).
	end, lastNL, count := 0, -1, 0
	for {
		r, n := at(end)
		if n == 0 || !isSpace(r) {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = end
		}
		end += n
		count++
	}
	// \s*[\r\n]+
	if lastNL >= 0 {
		return lastNL + 1
	}
	// \s+(?!\S): all of a run that ends the text, else all but its last
	// character when that leaves one
	if end == len(s) || count < 2 {
		return max(end, n0)
	}
	_, last := utf8.DecodeLastRuneInString(s[:end])
	return end - last
}

// lower folds an ASCII letter and U+017F (ſ, which folds to s) to lower case.
func lower(r rune) rune {
	switch {
	case 'A' <= r && r <= 'Z':
		return r + 'a' - 'A'
	case r == 0x17F:
		return 's'
	}
	return r
}
