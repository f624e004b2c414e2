package server

import (
	"bytes"
	"testing"
)

// FuzzParseRequest feeds arbitrary bodies through the request checks
// that need no model: they never panic, and what they refuse is a 4xx.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		chatBody("hi", `,"max_tokens":3,"stop":["a"],"top_k":2,"top_p":0.5,"seed":1,"n":1`),
		`{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"q"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"assistant","content":"a"},{"role":"user","content":"b"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"file:///etc/passwd"}]}]}`,
		`{"stop":"x","max_completion_tokens":2,"temperature":0.3}`,
		`[`, `null`, `{"messages":null}`,
	} {
		f.Add([]byte(seed))
	}
	lim := limits{maxImagePixels: 1 << 20, maxImageBytes: 1 << 16, maxTokens: 64, defaultMaxTokens: 8}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(e *apiError) {
			if e != nil && (e.status < 400 || e.status > 499 || e.message == "") {
				t.Fatalf("error %+v for %q", e, body)
			}
		}
		var cr chatRequest
		e := decodeJSON(bytes.NewReader(body), &cr)
		check(e)
		if e != nil {
			return
		}
		_, e = parseOptions(&cr, &lim)
		check(e)
		conv, e := parseMessages(cr.Messages, &lim)
		check(e)
		if e == nil && conv.image != nil {
			_, _, _, e = decodeImage(conv.image, "image", &lim)
			check(e)
		}
	})
}
