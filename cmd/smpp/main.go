// Command smpp is the smppkit command-line tool: it decodes and encodes PDUs,
// explains message text, and sends, listens and load-tests over SMPP.
//
// Each subcommand lives in a file of its own and registers itself in init,
// so adding one touches nothing else.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// env is what a subcommand may touch: its arguments and the standard streams.
// Passing them in (instead of using os.* directly) lets tests run a
// subcommand in-process.
type env struct {
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e env) int // returns the process exit code
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	code := run(env{args: os.Args[1:], stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	profiling()
	os.Exit(code)
}

func run(e env) int {
	if len(e.args) == 0 || e.args[0] == "-h" || e.args[0] == "--help" || e.args[0] == "help" {
		usage(e.stderr)
		if len(e.args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[e.args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "smpp: unknown command %q\n\n", e.args[0])
		usage(e.stderr)
		return 2
	}
	e.args = e.args[1:]
	return c.run(e)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: smpp COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'smpp COMMAND -h' for a command's flags.")
}
