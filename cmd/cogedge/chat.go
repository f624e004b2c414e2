package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/model/prompt"
	"golang.org/x/term"
)

func init() {
	register(command{
		name:  "chat",
		short: "interactive chat about an image (or text only) on a terminal or from piped stdin",
		run:   chatCmd,
	})
}

const chatSynopsis = "chat -m MODEL [--image IMG] [flags]"

const chatHelp = `Type a question and press Enter. Commands:
  /image PATH   talk about another picture (starts a new conversation)
  /reset        forget the conversation (the picture stays)
  /save FILE    write the conversation as JSON (--history FILE reads it back)
  /exit         quit (also Ctrl-D, or Ctrl-C twice at the prompt)
Several lines: end a line with \ to continue it, or put the text between lines of """.
Ctrl-C while an answer is printed stops it.
`

// chatCmd runs an interactive conversation. Questions come from stdin one
// per line; on a terminal a prompt is shown, from a pipe nothing but the
// answers is written (to stdout; notes go to stderr).
func chatCmd(args []string, stdout, stderr io.Writer) error {
	fs, af := newAnswerFlags("chat", -1)
	af.model.deviceOK = true
	mf, cf, sf := &af.model, &af.cache, &af.sample
	if done, err := parseFlags(fs, chatSynopsis, args, stdout); done || err != nil {
		if done {
			fmt.Fprint(stdout, "\n"+chatHelp)
		}
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := sf.check(); err != nil {
		return err
	}
	first := mf.prompt
	mf.prompt = "" // asked in the loop, like every question
	ch, err := startChat(mf, cf, sf, true, stdout, stderr)
	if err != nil {
		return err
	}
	defer ch.close()
	f, isFile := stdin.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	if tty {
		fmt.Fprintln(stderr, `cogedge chat: /help for commands, Ctrl-C twice or /exit to quit`)
	}

	// Ctrl-C stops the answer being generated, or at the prompt asks for a
	// second one to quit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	lines := make(chan string)
	readErr := make(chan error, 1)
	go readLines(stdin, lines, readErr)

	l := chatLoop{ch: ch, stderr: stderr, tty: tty}
	if first != "" {
		l.answer(first, sigs)
	}
	interrupted := false
	for {
		l.prompt()
		select {
		case <-sigs:
			if interrupted {
				fmt.Fprintln(stderr)
				return nil
			}
			interrupted = true
			l.pending = nil
			fmt.Fprintln(stderr, "\n(Ctrl-C again to quit)")
		case line, ok := <-lines:
			if !ok {
				if l.tty {
					fmt.Fprintln(stderr)
				}
				return <-readErr
			}
			interrupted = false
			q, complete := l.collect(line)
			if !complete || q == "" {
				continue
			}
			if quit := l.command(q, sigs); quit {
				return nil
			}
		}
	}
}

// readLines sends stdin's lines (without the newline) until EOF, then
// closes lines and sends the read error (nil at EOF).
func readLines(r io.Reader, lines chan<- string, errc chan<- error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		s, err := br.ReadString('\n')
		if s != "" || err == nil {
			lines <- strings.TrimRight(s, "\r\n")
		}
		if err != nil {
			close(lines)
			if errors.Is(err, io.EOF) {
				err = nil
			}
			errc <- err
			return
		}
	}
}

// chatLoop is the line editor state of chat: multi-line input being
// collected and where to write notes.
type chatLoop struct {
	ch      *chat
	stderr  io.Writer
	tty     bool
	pending []string // lines of a question not finished yet
	block   bool     // inside """ … """
}

func (l *chatLoop) prompt() {
	if !l.tty {
		return
	}
	if len(l.pending) > 0 {
		fmt.Fprint(l.stderr, "… ")
	} else {
		fmt.Fprint(l.stderr, "> ")
	}
}

// collect adds a typed line and returns the question once it is complete:
// a line ending in \ continues, and """ opens and closes a block of lines.
func (l *chatLoop) collect(line string) (string, bool) {
	switch {
	case l.block:
		if rest, ok := strings.CutSuffix(line, `"""`); ok {
			l.block = false
			l.pending = append(l.pending, rest)
			return l.flush(), true
		}
		l.pending = append(l.pending, line)
		return "", false
	case len(l.pending) == 0 && strings.HasPrefix(line, `"""`):
		rest := strings.TrimPrefix(line, `"""`)
		if body, ok := strings.CutSuffix(rest, `"""`); ok && rest != "" {
			return strings.TrimSpace(body), true // """one line"""
		}
		l.block = true
		if rest != "" {
			l.pending = append(l.pending, rest)
		}
		return "", false
	case strings.HasSuffix(line, `\`):
		l.pending = append(l.pending, strings.TrimSuffix(line, `\`))
		return "", false
	}
	l.pending = append(l.pending, line)
	return l.flush(), true
}

func (l *chatLoop) flush() string {
	q := strings.TrimSpace(strings.Join(l.pending, "\n"))
	l.pending = nil
	return q
}

// command runs a /command or asks a question; it reports whether to quit.
func (l *chatLoop) command(q string, sigs <-chan os.Signal) (quit bool) {
	ch := l.ch
	name, arg, _ := strings.Cut(q, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "/exit", "/quit", "/bye":
		return true
	case "/help", "/?":
		fmt.Fprint(l.stderr, chatHelp)
	case "/reset", "/clear":
		ch.hist = nil
		fmt.Fprintln(l.stderr, "(conversation cleared)")
	case "/image":
		if arg == "" {
			fmt.Fprintln(l.stderr, "usage: /image PATH")
			break
		}
		if err := l.setImage(arg); err != nil {
			fmt.Fprintf(l.stderr, "cogedge chat: %v\n", err)
			break
		}
		fmt.Fprintf(l.stderr, "(new conversation about %s)\n", arg)
	case "/save":
		if arg == "" {
			fmt.Fprintln(l.stderr, "usage: /save FILE")
			break
		}
		if err := saveHistory(arg, ch.hist, ch.mf); err != nil {
			fmt.Fprintf(l.stderr, "cogedge chat: %v\n", err)
			break
		}
		fmt.Fprintf(l.stderr, "(%d turns saved to %s)\n", len(ch.hist), arg)
	default:
		if strings.HasPrefix(name, "/") && !strings.Contains(name[1:], "/") {
			fmt.Fprintf(l.stderr, "unknown command %s (/help lists them)\n", name)
			break
		}
		l.answer(q, sigs)
	}
	return false
}

// answer asks q; Ctrl-C meanwhile stops the answer, keeping what was said.
func (l *chatLoop) answer(q string, sigs <-chan os.Signal) {
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			l.ch.stop.Store(true)
		case <-done:
		}
	}()
	err := l.ch.ask(q)
	close(done)
	if err != nil {
		fmt.Fprintf(l.stderr, "cogedge chat: %v\n", err)
		if strings.Contains(err.Error(), "context") {
			fmt.Fprintln(l.stderr, "(/reset starts over with the same picture)")
		}
	}
}

// setImage switches the conversation to the picture at path, checking the
// file before the KV cache is emptied.
func (l *chatLoop) setImage(path string) error {
	ch := l.ch
	if ch.s.m.Vision == nil {
		return errors.New("the model has no vision tower (pass --mmproj)")
	}
	if _, err := imageproc.Load(path, imageproc.DefaultLimits); err != nil {
		return err
	}
	ch.nImg = ch.s.m.Vision.ImageTokens
	if err := ch.setImage(path); err != nil {
		return err
	}
	ch.mf.image = path
	ch.hist = nil
	return nil
}

// saveHistory writes the turns as --history reads them.
func saveHistory(path string, turns []prompt.Turn, mf *modelFlags) error {
	pairs := make([][2]string, len(turns))
	for i, t := range turns {
		pairs[i] = [2]string{t.Question, t.Answer}
	}
	js, err := json.MarshalIndent(pairs, "", "  ")
	if err != nil {
		return err
	}
	return outfile.WriteFile(path, append(js, '\n'), outfile.Options{Inputs: []string{mf.model, mf.mmproj, mf.image}})
}
