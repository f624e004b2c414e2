// Command cogedge runs CogVLM vision-language models from one GGUF file on
// the machines people own: Macs, Raspberry Pi 5, Jetson Orin and x86 laptops.
//
// Usage:
//
//	cogedge <command> [flags] [args]
//
// Each command lives in its own file and registers itself in init; main only
// dispatches. Run `cogedge help` for the list.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
)

// command is one subcommand of cogedge.
type command struct {
	name  string
	short string // one line for `cogedge help`
	// run executes the command with the arguments after its name. It writes
	// results to stdout and diagnostics to stderr and returns an error to
	// report; main prints it and exits 1.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds c to the command table; it panics on a duplicate name,
// which is a programming error caught by any test run.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("cogedge: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error as a usage error (exit status 2).
type errUsage struct{ err error }

func (e errUsage) Error() string { return e.err.Error() }
func (e errUsage) Unwrap() error { return e.err }

func main() {
	// COGEDGE_CPUPROFILE=FILE writes a CPU profile of the whole command
	// (go tool pprof FILE): for finding where a run spends its time.
	if path := os.Getenv("COGEDGE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cogedge: COGEDGE_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "cogedge: COGEDGE_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(stdout, version())
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cogedge: unknown command %q (run 'cogedge help')\n", args[0])
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "cogedge %s: %v\n", c.name, err)
		if _, isUsage := err.(errUsage); isUsage {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cogedge runs CogVLM vision-language models from a GGUF file.")
	fmt.Fprintln(w, "\nUsage: cogedge <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].short)
	}
	fmt.Fprintln(w, "\nRun 'cogedge <command> --help' for a command's flags, 'cogedge --version' for the build.")
}

// version describes the build: module version, VCS revision (when built
// from a checkout), Go version and platform.
func version() string {
	v, rev, dirty := "(unknown)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "cogedge " + v
	if rev != "" {
		out += " " + rev[:min(12, len(rev))]
		if dirty {
			out += "+modified"
		}
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
