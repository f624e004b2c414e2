package tokenizer

import (
	"strings"
	"testing"
)

// benchText is about 64 KiB of mixed prose: the corpus strings joined, then
// repeated.
func benchText(b testing.TB) string {
	var sb strings.Builder
	for _, c := range loadCorpus(b) {
		sb.WriteString(c.Text)
		sb.WriteByte('\n')
	}
	one := sb.String()
	return strings.Repeat(one, max(1, 64<<10/len(one)))
}

// BenchmarkEncode measures encode throughput in MB/s of input text, one
// long text per call.
func BenchmarkEncode(b *testing.B) {
	tk := llamaTokenizer(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tk.Encode(text, true)
	}
}

// BenchmarkEncodePrompt measures a short chat prompt, the common case.
func BenchmarkEncodePrompt(b *testing.B) {
	tk := llamaTokenizer(b)
	text := "A chat between a curious user and an artificial intelligence assistant. USER: What is in this image? Describe every object with [[x0,y0,x1,y1]] boxes. ASSISTANT:"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tk.Encode(text, true)
	}
}

// BenchmarkDecodeStream measures streaming decode per token.
func BenchmarkDecodeStream(b *testing.B) {
	tk := llamaTokenizer(b)
	text := benchText(b)
	ids := tk.Encode(text, false)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		d := tk.NewStreamDecoder()
		for _, id := range ids {
			d.Add(id)
		}
	}
}
