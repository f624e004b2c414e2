package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/server"
	"github.com/cogedge/cogedge/webui"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "serve",
		short: "serve an OpenAI-compatible chat API (POST /v1/chat/completions) with batched decoding",
		run:   serveCmd,
	})
}

// serveSignals is where serve learns to stop (tests replace it).
var serveSignals = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	var mf modelFlags
	fs.StringVarP(&mf.model, "model", "m", "", "GGUF model file (required)")
	fs.StringVar(&mf.mmproj, "mmproj", "", "separate vision GGUF (llama.cpp-style mmproj), if the model file has no vision tower")
	fs.StringVar(&mf.template, "template", "", "prompt template: chat, vqa or base (default: the file's cogvlm.template)")
	fs.StringVar(&mf.kv, "kv-type", "f16", "KV cache type: f16 or f32")
	fs.IntVarP(&mf.ctx, "ctx-size", "c", 0, "KV cache of each conversation in slots, image rows included (default: the model's context length)")
	fs.IntVarP(&mf.threads, "threads", "t", runtime.NumCPU(), "threads")
	fs.BoolVar(&mf.verbose, "verbose", false, "log requests' image cache hits and errors to stderr")
	fs.StringVar(&mf.backend, "backend", "auto", "compute backend: auto, cpu, metal (Apple GPU; conversations decode one after another, without the image cache) or metal-sim (the Metal shaders simulated on the CPU; Linux, needs clang 16, slow)")
	mf.deviceOK = true
	var cf cacheFlags
	cf.register(fs)
	host := fs.String("host", "127.0.0.1", "address to listen on (loopback by default; 0.0.0.0 exposes the server to the network)")
	port := fs.Int("port", 8080, "TCP port (0 picks a free one)")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer KEY on /v1/* and /metrics (default: $COGEDGE_API_KEY)")
	parallel := fs.Int("parallel", 1, "conversations decoded together (each with its own KV cache)")
	queue := fs.Int("queue", 16, "requests that may wait for a slot; beyond them the answer is 503 with Retry-After")
	alias := fs.String("alias", "", "model id in /v1/models and requests (default: the model file's name)")
	allowLocal := fs.Bool("allow-local-images", false, "let image_url name a file on this machine (off: data URLs only)")
	maxBody := fs.Int64("max-body-mib", 32, "largest request body in MiB")
	maxPixels := fs.Int64("max-image-pixels", 50_000_000, "largest picture in pixels (width × height)")
	maxPrompt := fs.Int("max-prompt-tokens", 0, "largest prompt in slots, image rows included (default: the context size - 1)")
	nPredict := fs.IntP("n-predict", "n", 512, "max_tokens when a request gives none")
	if done, err := parseFlags(fs, "serve -m MODEL [--mmproj F] [--host 127.0.0.1] [--port 8080] [--api-key K] [--parallel N]", args, stdout); done || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	switch {
	case *port < 0 || *port > 65535:
		return errUsage{fmt.Errorf("--port %d: want 0 to 65535", *port)}
	case *parallel < 1 || *parallel > 256:
		return errUsage{fmt.Errorf("--parallel %d: want 1 to 256", *parallel)}
	case *queue < 0:
		return errUsage{fmt.Errorf("--queue %d: want 0 or more", *queue)}
	case *maxBody < 1 || *maxBody > 1<<12:
		return errUsage{fmt.Errorf("--max-body-mib %d: want 1 to 4096", *maxBody)}
	case *maxPixels < 1:
		return errUsage{fmt.Errorf("--max-image-pixels %d: want at least 1", *maxPixels)}
	case *maxPrompt < 0:
		return errUsage{fmt.Errorf("--max-prompt-tokens %d: want 0 (default) or more", *maxPrompt)}
	case *nPredict < 1:
		return errUsage{fmt.Errorf("-n %d: want at least 1", *nPredict)}
	}
	if *apiKey == "" {
		*apiKey = os.Getenv("COGEDGE_API_KEY")
	}
	cache, err := cf.open()
	if err != nil {
		return err
	}
	s, err := openSession(&mf, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	if s.tok == nil {
		return errors.New("the model file has no tokenizer (tokenizer.ggml.* keys)")
	}
	modelID := ""
	if cache != nil && s.m.Vision != nil {
		if modelID, err = imagecache.ModelID(mf.model, mf.mmproj); err != nil {
			return err
		}
	}
	name := *alias
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(mf.model), ".zst"), ".gguf")
	}
	var logw io.Writer
	if mf.verbose {
		logw = stderr
	}
	size, params, err := modelSize(s, mf.model, mf.mmproj)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Model: s.m, Tokenizer: s.tok, ModelName: name, ModelBytes: size, ModelParams: params, Template: mf.template,
		Parallel: *parallel, Queue: *queue, ContextSize: mf.ctx, KV: s.kv, Threads: mf.threads,
		APIKey: *apiKey, AllowLocalImages: *allowLocal,
		MaxBodyBytes: *maxBody << 20, MaxImagePixels: *maxPixels, MaxPromptTokens: *maxPrompt, DefaultMaxTokens: *nPredict,
		Cache: cache, ModelID: modelID, Log: logw, Device: s.dev,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	// The chat page at / beside the API; every response carries the page's
	// Content-Security-Policy.
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	webui.Register(mux)
	hs := &http.Server{Handler: webui.Secure(mux), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "cogedge serve: model %q on http://%s (%d parallel, queue %d)\n", name, ln.Addr(), *parallel, *queue)
	announcePage(stderr, *host, ln.Addr().(*net.TCPAddr).Port, *apiKey != "", net.InterfaceAddrs)
	ctx, stop := serveSignals()
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// drain: refuse new requests, finish accepted ones, then close
	fmt.Fprintln(stderr, "cogedge serve: draining (finishing accepted requests)")
	go srv.Drain(context.Background())
	if err := hs.Shutdown(context.Background()); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "cogedge serve: stopped")
	return nil
}

// announcePage says where the chat page is. On a loopback host it is one
// line; any other host exposes the model to the network, which gets a
// warning and the URLs to open from another machine (a phone next to the
// board).
func announcePage(w io.Writer, host string, port int, withKey bool, addrs func() ([]net.Addr, error)) {
	if webui.IsLoopback(host) {
		fmt.Fprintf(w, "cogedge serve: chat page at %s (this machine only; --host 0.0.0.0 opens it to the network)\n",
			webui.OpenURLs(host, port, addrs)[0])
		return
	}
	who := "every machine that can reach this one can use the model (no --api-key set)"
	if withKey {
		who = "every machine that can reach this one can use the model with the API key"
	}
	fmt.Fprintf(w, "cogedge serve: WARNING: listening on %s, not loopback: %s\n", net.JoinHostPort(host, strconv.Itoa(port)), who)
	for _, u := range webui.OpenURLs(host, port, addrs) {
		fmt.Fprintf(w, "cogedge serve: chat page at %s\n", u)
	}
}

// modelSize is the bytes of the model's files on disk and their parameter
// count, for /v1/models.
func modelSize(s *session, model, mmproj string) (int64, uint64, error) {
	var size int64
	for _, p := range []string{model, mmproj} {
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return 0, 0, err
		}
		size += st.Size()
	}
	return size, s.m.ParamCount(), nil
}
