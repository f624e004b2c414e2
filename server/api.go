package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"

	"github.com/cogedge/cogedge/grounding"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/model/prompt"
)

// apiError is an error answered with an OpenAI-style body:
// {"error": {"message", "type", "param", "code"}}.
type apiError struct {
	status  int
	message string
	typ     string // invalid_request_error, authentication_error, server_error…
	param   string
	code    string
}

func (e *apiError) Error() string { return e.message }

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...), typ: "invalid_request_error", param: param}
}

// errorBody is the JSON of an apiError.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func (e *apiError) body() errorBody {
	var b errorBody
	b.Error.Message, b.Error.Type = e.message, e.typ
	if e.param != "" {
		b.Error.Param = &e.param
	}
	if e.code != "" {
		b.Error.Code = &e.code
	}
	return b
}

// chatRequest is the part of OpenAI's chat completion request cogedge
// reads; other fields are accepted and ignored.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	N                   *int            `json:"n"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type contentPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	ImageURL json.RawMessage `json:"image_url"`
}

// decodeJSON reads one JSON value of r into v, with errors that name the
// field and say what was expected.
func decodeJSON(r io.Reader, v any) *apiError {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
				message: fmt.Sprintf("request body exceeds %d bytes", mbe.Limit)}
		case errors.As(err, &ute):
			return badRequest(ute.Field, "field %q: got a JSON %s, want %s", ute.Field, ute.Value, jsonKind(ute.Type))
		case errors.As(err, &se):
			return badRequest("", "the body is not valid JSON: %v (at byte %d)", se, se.Offset)
		case errors.Is(err, io.EOF):
			return badRequest("", "empty body: want a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("", "the body is not valid JSON: unexpected end")
		default:
			return badRequest("", "the body is not a valid request: %v", err)
		}
	}
	if dec.More() {
		return badRequest("", "the body has data after its JSON object")
	}
	return nil
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	default:
		return "object"
	}
}

// limits bound what a request may ask for.
type limits struct {
	maxImagePixels   int64
	maxImageBytes    int64
	allowLocalImages bool
	maxTokens        int // largest max_tokens
	defaultMaxTokens int
}

// conversation is a parsed request: the prompt turns and the one image.
type conversation struct {
	history []prompt.Turn
	query   string
	image   []byte // encoded image, nil for none
	imgDesc string // where the image came from, for errors
}

// parseMessages turns OpenAI messages into CogVLM turns: system messages
// are prepended to the first question, user and assistant alternate and
// the last message is the user's question. At most one image (CogVLM reads
// one picture per conversation).
func parseMessages(msgs []chatMessage, lim *limits) (*conversation, *apiError) {
	if len(msgs) == 0 {
		return nil, badRequest("messages", "messages: want at least one message")
	}
	var conv conversation
	var system []string
	var pendingQ *string
	for i, m := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		text, img, err := parseContent(m.Content, param, lim)
		if err != nil {
			return nil, err
		}
		if img != nil {
			if m.Role != "user" {
				return nil, badRequest(param, "%s: only user messages may carry an image", param)
			}
			if conv.image != nil {
				return nil, badRequest(param, "%s: a second image: CogVLM reads one picture per conversation", param)
			}
			conv.image, conv.imgDesc = img, param
		}
		switch m.Role {
		case "system", "developer":
			if pendingQ != nil || len(conv.history) > 0 {
				return nil, badRequest(param, "%s: a system message must come before the conversation", param)
			}
			system = append(system, text)
		case "user":
			if pendingQ != nil {
				return nil, badRequest(param, "%s: two user messages in a row (want user and assistant turns alternating)", param)
			}
			q := text
			if len(conv.history) == 0 && len(system) > 0 {
				q = strings.Join(append(system, text), "\n")
			}
			pendingQ = &q
		case "assistant":
			if pendingQ == nil {
				return nil, badRequest(param, "%s: an assistant message without a user message before it", param)
			}
			conv.history = append(conv.history, prompt.Turn{Question: *pendingQ, Answer: text})
			pendingQ = nil
		default:
			return nil, badRequest(param+".role", "%s.role %q: want system, user or assistant", param, m.Role)
		}
	}
	if pendingQ == nil {
		return nil, badRequest("messages", "messages: the last message must be the user's question")
	}
	conv.query = *pendingQ
	return &conv, nil
}

// parseContent reads a message's content: a string, or an array of
// {"type":"text"} and {"type":"image_url"} parts.
func parseContent(raw json.RawMessage, param string, lim *limits) (string, []byte, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, badRequest(param+".content", "%s.content: missing", param)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, badRequest(param+".content", "%s.content: %v", param, err)
		}
		return s, nil, nil
	}
	if raw[0] != '[' {
		return "", nil, badRequest(param+".content", "%s.content: want a string or an array of parts", param)
	}
	var parts []contentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", nil, badRequest(param+".content", "%s.content: want an array of {type, text | image_url} parts: %v", param, err)
	}
	var texts []string
	var img []byte
	for j, p := range parts {
		pp := fmt.Sprintf("%s.content[%d]", param, j)
		switch p.Type {
		case "text":
			texts = append(texts, p.Text)
		case "image_url":
			if img != nil {
				return "", nil, badRequest(pp, "%s: a second image: CogVLM reads one picture per conversation", pp)
			}
			var err *apiError
			if img, err = readImageURL(p.ImageURL, pp, lim); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, badRequest(pp+".type", "%s.type %q: want text or image_url", pp, p.Type)
		}
	}
	return strings.Join(texts, "\n"), img, nil
}

// readImageURL returns the encoded image of an image_url part: a data URL
// (base64), or with allowLocalImages a local path or file:// URL. Remote
// URLs are refused (the server fetches nothing).
func readImageURL(raw json.RawMessage, param string, lim *limits) ([]byte, *apiError) {
	var u string
	var obj struct {
		URL string `json:"url"`
	}
	switch {
	case json.Unmarshal(raw, &u) == nil:
	case json.Unmarshal(raw, &obj) == nil:
		u = obj.URL
	default:
		return nil, badRequest(param+".image_url", "%s.image_url: want {\"url\": \"data:image/…;base64,…\"}", param)
	}
	switch {
	case strings.HasPrefix(u, "data:"):
		comma := strings.IndexByte(u, ',')
		if comma < 0 || !strings.HasSuffix(u[:comma], ";base64") {
			return nil, badRequest(param+".image_url", "%s.image_url: a data URL must be base64 (data:image/png;base64,…)", param)
		}
		b64 := u[comma+1:]
		if int64(base64.StdEncoding.DecodedLen(len(b64))) > lim.maxImageBytes+3 {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", param: param + ".image_url",
				message: fmt.Sprintf("%s.image_url: the image exceeds %d bytes", param, lim.maxImageBytes)}
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, badRequest(param+".image_url", "%s.image_url: bad base64: %v", param, err)
		}
		return data, nil
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return nil, badRequest(param+".image_url", "%s.image_url: remote URLs are not fetched; send the picture as a data URL", param)
	case u == "":
		return nil, badRequest(param+".image_url", "%s.image_url: empty URL", param)
	}
	if !lim.allowLocalImages {
		return nil, badRequest(param+".image_url", "%s.image_url: local paths are refused unless the server runs with --allow-local-images; send a data URL", param)
	}
	path := strings.TrimPrefix(u, "file://")
	f, err := os.Open(path)
	if err != nil {
		return nil, badRequest(param+".image_url", "%s.image_url: %v", param, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, badRequest(param+".image_url", "%s.image_url: %s is not a regular file", param, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, lim.maxImageBytes+1))
	if err != nil {
		return nil, badRequest(param+".image_url", "%s.image_url: %v", param, err)
	}
	if int64(len(data)) > lim.maxImageBytes {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", param: param + ".image_url",
			message: fmt.Sprintf("%s.image_url: the image exceeds %d bytes", param, lim.maxImageBytes)}
	}
	return data, nil
}

// decodeImage decodes an image under the pixel limit into RGB.
func decodeImage(data []byte, param string, lim *limits) (rgb []uint8, w, h int, aerr *apiError) {
	img, err := imageproc.DecodeBytes(data, imageproc.Limits{MaxBytes: lim.maxImageBytes, MaxPixels: lim.maxImagePixels})
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, imageproc.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		return nil, 0, 0, &apiError{status: status, typ: "invalid_request_error", param: param,
			message: fmt.Sprintf("%s: the image cannot be used: %v", param, err)}
	}
	rgb, w, h = imageproc.ToRGB(img)
	if w == 0 || h == 0 {
		return nil, 0, 0, badRequest(param, "%s: empty image", param)
	}
	return rgb, w, h, nil
}

// options are a request's generation settings after validation.
type options struct {
	maxTokens   int
	temperature float32
	topP        float32
	topK        int
	seed        *int64
	stop        []string
}

func parseOptions(r *chatRequest, lim *limits) (options, *apiError) {
	o := options{maxTokens: lim.defaultMaxTokens, temperature: 1, topP: 1, seed: r.Seed}
	if r.N != nil && *r.N != 1 {
		return o, badRequest("n", "n %d: only n = 1 is supported", *r.N)
	}
	mt := r.MaxTokens
	if r.MaxCompletionTokens != nil {
		mt = r.MaxCompletionTokens
	}
	if mt != nil {
		if *mt < 1 || *mt > lim.maxTokens {
			return o, badRequest("max_tokens", "max_tokens %d: want 1 to %d", *mt, lim.maxTokens)
		}
		o.maxTokens = *mt
	}
	if t := r.Temperature; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 2 {
			return o, badRequest("temperature", "temperature %v: want 0 to 2", *t)
		}
		o.temperature = float32(*t)
	}
	if p := r.TopP; p != nil {
		if math.IsNaN(*p) || *p <= 0 || *p > 1 {
			return o, badRequest("top_p", "top_p %v: want more than 0 and at most 1", *p)
		}
		o.topP = float32(*p)
	}
	if k := r.TopK; k != nil {
		if *k < 0 {
			return o, badRequest("top_k", "top_k %d: want 0 (off) or more", *k)
		}
		o.topK = *k
	}
	if len(r.Stop) > 0 && string(r.Stop) != "null" {
		var one string
		var many []string
		switch {
		case json.Unmarshal(r.Stop, &one) == nil:
			many = []string{one}
		case json.Unmarshal(r.Stop, &many) == nil:
		default:
			return o, badRequest("stop", "stop: want a string or an array of strings")
		}
		if len(many) > 4 {
			return o, badRequest("stop", "stop: %d sequences, at most 4", len(many))
		}
		for _, s := range many {
			if s == "" || len(s) > 256 {
				return o, badRequest("stop", "stop: each sequence must have 1 to 256 bytes")
			}
		}
		o.stop = many
	}
	return o, nil
}

// Response shapes.

type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage,omitempty"`
	Timings *timings     `json:"timings,omitempty"`
}

// timings is llama.cpp's extra field of a finished answer, measured in the
// scheduler (so network and client buffering do not enter): PromptMS from
// the request's arrival to its first token (queue, image, prefill),
// PredictedMS from the first token to the last, and PredictedPerSecond
// the tokens after the first over that time.
type timings struct {
	PromptMS           float64 `json:"prompt_ms"`
	PredictedN         int     `json:"predicted_n"`
	PredictedMS        float64 `json:"predicted_ms"`
	PredictedPerSecond float64 `json:"predicted_per_second"`
}

// newTimings reads an answer's timings from its final event (nil when it
// produced no token).
func newTimings(ev event) *timings {
	if ev.completion == 0 {
		return nil
	}
	t := &timings{PromptMS: float64(ev.promptTime.Microseconds()) / 1000, PredictedN: ev.completion,
		PredictedMS: float64(ev.decodeTime.Microseconds()) / 1000}
	if ev.completion > 1 && ev.decodeTime > 0 {
		t.PredictedPerSecond = float64(ev.completion-1) / ev.decodeTime.Seconds()
	}
	return t
}

type chatChoice struct {
	Index        int          `json:"index"`
	Message      *respMessage `json:"message,omitempty"`
	Delta        *respMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
}

// respMessage is the assistant's message; Boxes is cogedge's extra field:
// the grounding boxes of the answer in pixels of the original picture.
type respMessage struct {
	Role    string          `json:"role,omitempty"`
	Content *string         `json:"content,omitempty"`
	Boxes   []grounding.Box `json:"boxes,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}
