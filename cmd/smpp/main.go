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
	"runtime/debug"
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
	if len(e.args) == 0 {
		usage(e.stderr)
		return 2
	}
	switch e.args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintln(e.stdout, "smpp", versionString())
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
	fmt.Fprintln(w, "\nRun 'smpp COMMAND --help' for a command's flags; 'smpp --version' for the version.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 failure, 2 usage error.")
}

// version is set at link time (-ldflags "-X main.version=v1.2.3"); without
// it the module version or VCS revision from the build information is shown.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel " + rev + dirty + " " + bi.GoVersion
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}
