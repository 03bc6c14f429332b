package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags returns a command's flag set. usage is the synopsis line(s) and a
// description; the flags, each with its line of explanation, follow it in
// the help.
func newFlags(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("smpp "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimRight(usage, "\n"))
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses the command line the same way for every command:
//
//   - -h, -help and --help print the help on stdout and exit 0;
//   - a bad flag or value prints the error and the help on stderr and
//     exits 2 (a usage error);
//   - flags may come after positional arguments (smpp send TEXT --dlr is
//     a flag, not text); "--" ends the flags, for a text that starts with
//     "-".
//
// ok is false when the command should exit with code.
func parseFlags(fs *flag.FlagSet, e env) (args []string, code int, ok bool) {
	rest := e.args
	for _, a := range rest {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, 0, false
		}
	}
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		left := fs.Args()
		if len(left) == 0 {
			return args, 0, true
		}
		if used := len(rest) - len(left); used > 0 && rest[used-1] == "--" {
			return append(args, left...), 0, true
		}
		args = append(args, left[0])
		rest = left[1:]
	}
}

// usageError reports a usage error of command name and returns exit code 2.
func usageError(w io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(w, "smpp %s: %s\nRun 'smpp %s --help' for its flags.\n", name, fmt.Sprintf(format, a...), name)
	return 2
}
